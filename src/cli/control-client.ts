// The CLI's side of the control socket: one request line, one reply line (server/control-protocol.ts).
import { createConnection } from 'node:net';
import { OperatorError } from '../config/operator-error';
import type { ControlReply, ControlRequest } from '../server/control-protocol';

/** The engine answers within a second per worker; this covers a loaded machine. */
const REPLY_TIMEOUT_MS = 15_000;

export class ControlError extends OperatorError {}

export function askControl(path: string, request: ControlRequest, timeoutMs = REPLY_TIMEOUT_MS): Promise<ControlReply> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let text = '';
    const fail = (why: string): void => {
      socket.destroy();
      reject(new ControlError(`control socket ${path}: ${why}`));
    };
    socket.setEncoding('utf8');
    socket.setTimeout(timeoutMs, () => fail('no answer'));
    socket.on('connect', () => socket.write(JSON.stringify(request) + '\n'));
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => fail(reason(error)));
    socket.on('end', () => {
      socket.destroy();
      try {
        resolve(JSON.parse(text) as ControlReply);
      } catch {
        reject(new ControlError(`control socket ${path}: not an r2d2 answer`));
      }
    });
  });
}

function reason(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOENT':
    case 'ECONNREFUSED':
      return 'r2d2 is not running (nothing listens there)';
    case 'EACCES':
      return 'permission denied (run as root or as the user r2d2 runs as)';
    default:
      return error.message;
  }
}
