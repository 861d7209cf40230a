// c11n `control_socket`: where the engine serves `r2d2 who`, `kick` and `status`.
import fs from 'node:fs';
import path from 'node:path';
import { str } from './schema';

/** systemd's RuntimeDirectory=r2d2: made for the service user while the service runs. */
export const RUNTIME_DIRECTORY = '/run/r2d2';
/** The value that turns the socket off. */
export const CONTROL_SOCKET_OFF = 'none';

/** sun_path holds 108 octets with the final NUL: longer paths cannot be bound. */
const MAX_SOCKET_PATH = 107;

export function checkControlSocket(value: string): string | undefined {
  if (value === CONTROL_SOCKET_OFF) return undefined;
  if (!path.isAbsolute(value)) return `must be an absolute path or ${CONTROL_SOCKET_OFF}, got ${JSON.stringify(value)}`;
  if (Buffer.byteLength(value) > MAX_SOCKET_PATH) return `is ${Buffer.byteLength(value)} octets long; a unix socket path holds at most ${MAX_SOCKET_PATH}`;
  return undefined;
}

export const controlSocketKey = str().check(checkControlSocket);

/**
 * The socket's path, or undefined for none. Unset: /run/r2d2/control when /run/r2d2 exists (the
 * unit's RuntimeDirectory, there while the service runs), else none: r2d2 never makes that
 * folder itself (made by anyone else first, it would not be safe).
 */
export function controlSocketPath(value: string | undefined, runtimeDirectory = RUNTIME_DIRECTORY): string | undefined {
  if (value === CONTROL_SOCKET_OFF) return undefined;
  if (value !== undefined) return path.resolve(value);
  return isDirectory(runtimeDirectory) ? path.join(runtimeDirectory, 'control') : undefined;
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
