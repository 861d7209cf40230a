// The LMTP listener's sockets as the supervisor binds them (through the binder, as for POP3): a
// TCP port and/or a unix socket, the socket given its owner, group and mode (Postfix connects
// as `postfix`), and removed again when r2d2 stops.
import { lstatSync, unlinkSync } from 'node:fs';
import { LMTP_INET, LMTP_UNIX } from '../config/lmtp-schema';
import type { Config } from '../config/types';
import { resolveCredentials, type Credentials } from './credentials';

export type BindRequest =
  | { readonly name: string; readonly address: string; readonly port: number }
  | { readonly name: string; readonly path: string; readonly mode: number; readonly uid: number; readonly gid: number };

/**
 * What to bind for the lmtp section. The socket belongs to `socket_user`/`socket_group`, by
 * default the sessions' user and group (`session`, else whoever r2d2 runs as). Throws with a
 * message for the operator when a name is unknown.
 */
export function lmtpBindRequests(config: Config, session: Credentials | undefined): BindRequest[] {
  const lmtp = config.lmtp;
  if (lmtp === undefined) return [];
  const requests: BindRequest[] = [];
  if (lmtp.inet !== undefined) requests.push({ name: LMTP_INET, address: lmtp.inet.address, port: lmtp.inet.port });
  const socket = lmtp.socket;
  if (socket !== undefined) {
    const named = (key: string, value: string, resolve: () => number): number => {
      try {
        return resolve();
      } catch {
        throw new Error(`${key} "${value}" is not a known ${key === 'socket_user' ? 'user' : 'group'}`);
      }
    };
    const user = socket.user;
    const group = socket.group;
    const uid = user === undefined ? (session?.uid ?? process.getuid?.() ?? 0) : named('socket_user', user, () => resolveCredentials(user, undefined).uid);
    const gid =
      group !== undefined
        ? named('socket_group', group, () => resolveCredentials(String(uid), group).gid)
        : user !== undefined
          ? named('socket_user', user, () => resolveCredentials(user, undefined).gid)
          : (session?.gid ?? process.getgid?.() ?? 0);
    requests.push({ name: LMTP_UNIX, path: socket.path, mode: socket.mode, uid, gid });
  }
  return requests;
}

/** At stop: the socket file goes (a stale one would only be replaced at the next start). */
export function removeLmtpSocket(config: Config): void {
  const path = config.lmtp?.socket?.path;
  if (path === undefined) return;
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // gone already
  }
}
