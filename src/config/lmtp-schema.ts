// The `lmtp { ... }` section of a personality: an LMTP listener (RFC 2033) in `r2d2 serve` that
// delivers as `r2d2 deliver --recipient` does (the deliver section's query, quota and maildirs).
// Declared here and plugged into r2d2-schema.ts (one key, one line in toConfig).
import { C11nError } from './errors';
import { absolutePath, bool, here, int, section, str, where } from './schema';
import type { DeliverConfig, LmtpConfig } from './types';

/** setTimeout's ceiling in whole seconds. */
const MAX_TIMER_SECONDS = 2_147_483;

/** The names the LMTP listening sockets go by between the supervisor, the engine and the workers. */
export const LMTP_INET = 'lmtp';
export const LMTP_UNIX = 'lmtp-socket';

const notEmpty = (s: string): string | undefined => (s === '' ? 'must not be empty' : undefined);

/** `0660`: an octal file mode for the socket; undefined when malformed. */
export function parseSocketMode(text: string): number | undefined {
  return /^0?[0-7]{3}$/.test(text) ? parseInt(text, 8) : undefined;
}

/** `100M`, `52428800`, `0` (no limit): octets; undefined when malformed. */
export function parseMessageSize(text: string): number | undefined {
  const m = /^(\d{1,15})\s*([KMG])?$/i.exec(text.trim());
  if (m === null) return undefined;
  const unit = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30 }[(m[2] ?? '').toUpperCase()] ?? 1;
  const octets = Number(m[1]) * unit;
  return Number.isSafeInteger(octets) ? octets : undefined;
}

export const lmtpSchema = section({
  // A unix socket (Postfix: lmtp:unix:PATH), made by the supervisor with this owner and mode.
  socket: str().check(absolutePath),
  socket_user: str().check(notEmpty),
  socket_group: str().check(notEmpty),
  socket_mode: str()
    .check((s) => (parseSocketMode(s) === undefined ? `must be an octal mode such as 0660, got ${JSON.stringify(s)}` : undefined))
    .default('0660'),
  // A TCP listener (lmtp:inet:127.0.0.1:24): only when port is set; loopback unless said otherwise.
  address: str().check(notEmpty).default('127.0.0.1'),
  port: int({ min: 0, max: 65535 }),
  // RFC 1870 SIZE: the server-wide limit (a quota is per maildir). 0: no limit, SIZE not advertised.
  max_message_size: str()
    .check((s) => (parseMessageSize(s) === undefined ? `must be a size in octets (52428800, 50M, 1G; 0 for no limit), got ${JSON.stringify(s)}` : undefined))
    .default('100M'),
  max_recipients: int({ min: 1, max: 100_000 }).default(1000),
  // Per-recipient headers, as Postfix's pipe flags D and R add them.
  delivered_to: bool().default(true),
  return_path: bool().default(true),
  // RFC 5321 §4.5.3.2.7: a server waits at least 5 minutes for the next command.
  idle_timeout: int({ min: 1, max: MAX_TIMER_SECONDS }).default(300),
});

type LmtpDoc = ReturnType<(typeof lmtpSchema)['body']>;

/**
 * The section as an LmtpConfig; undefined when the personality has none. It needs the deliver
 * section (its recipient query finds the maildirs) and a socket or a port; its listener names
 * must not be taken by a `listen` section.
 */
export function toLmtpConfig(doc: LmtpDoc, present: boolean, deliver: DeliverConfig | undefined, listenTitles: readonly string[]): LmtpConfig | undefined {
  if (!present) return undefined;
  const at = here(doc);
  if (deliver?.recipientQuery === undefined) {
    throw C11nError.at(at, 'the lmtp section needs deliver { recipient_query_format_string = ... }: it finds each recipient’s maildir');
  }
  if (doc.socket === undefined && doc.port === undefined) throw C11nError.at(at, 'the lmtp section needs a socket (a path), a port, or both');
  for (const name of [LMTP_INET, LMTP_UNIX]) {
    if (listenTitles.includes(name)) throw C11nError.at(at, `listen "${name}": that title is taken by the lmtp section; name the POP3 listener otherwise`);
  }
  const fail = (key: string, what: string): never => {
    throw C11nError.at(where(doc, key) ?? at, what);
  };
  if ((doc.socket_user !== undefined || doc.socket_group !== undefined || where(doc, 'socket_mode') !== undefined) && doc.socket === undefined) {
    fail(doc.socket_user !== undefined ? 'socket_user' : doc.socket_group !== undefined ? 'socket_group' : 'socket_mode', 'socket_user, socket_group and socket_mode are for the socket: set socket = PATH');
  }
  const size = parseMessageSize(doc.max_message_size) ?? 0;
  return {
    socket:
      doc.socket === undefined
        ? undefined
        : { path: doc.socket, user: doc.socket_user, group: doc.socket_group, mode: parseSocketMode(doc.socket_mode) ?? 0o660 },
    inet: doc.port === undefined ? undefined : { address: doc.address, port: doc.port },
    maxMessageSize: size === 0 ? undefined : size,
    maxRecipients: doc.max_recipients,
    deliveredTo: doc.delivered_to,
    returnPath: doc.return_path,
    idleTimeoutMs: doc.idle_timeout * 1000,
  };
}

/** The LMTP listening sockets' names, as the supervisor binds them and the engine asks for dups. */
export function lmtpListenerNames(lmtp: LmtpConfig | undefined): string[] {
  if (lmtp === undefined) return [];
  return [...(lmtp.inet === undefined ? [] : [LMTP_INET]), ...(lmtp.socket === undefined ? [] : [LMTP_UNIX])];
}
