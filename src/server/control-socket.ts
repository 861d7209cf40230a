// The engine's control socket (`control_socket`, /run/r2d2/control under systemd): a unix stream
// socket served by the engine's main thread for `r2d2 who`, `kick` and `status`.
//
// Who may use it: only its file mode says so (0600, owned by the user the engine runs as; root
// passes too). Node cannot read a unix peer's credentials (no SO_PEERCRED), so the engine never
// learns who connected: the socket's mode, and the folder it lives in, are the whole guard.
import { lstatSync, statSync, unlinkSync, chmodSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { MAX_REQUEST_OCTETS, parseRequest, type ControlReply, type ControlRequest } from './control-protocol';

/** A client that has not sent its request line by then is cut off. */
const REQUEST_TIMEOUT_MS = 5000;
/** How long a probe of an existing socket waits before calling it stale. */
const PROBE_TIMEOUT_MS = 1000;

export type ControlHandler = (request: ControlRequest) => Promise<ControlReply>;

export class ControlSocket {
  private constructor(
    readonly path: string,
    private readonly server: Server,
    private readonly inode: number,
  ) {}

  /**
   * Listens on `path`. A stale socket there (left by an engine that died) is replaced; a live
   * one (another r2d2 on the same path) or a file that is no socket is left alone and logged,
   * and the engine runs without a control socket: never a reason to refuse to serve mail.
   */
  static async open(path: string, handle: ControlHandler, log: Logger): Promise<ControlSocket | undefined> {
    const refusal = await clearStale(path);
    if (refusal !== undefined) {
      log.error({ path, reason: refusal }, 'control socket not opened');
      return undefined;
    }
    const server = createServer((socket) => serve(socket, handle, log));
    try {
      await listenPrivately(server, path);
    } catch (error) {
      log.error({ path, reason: (error as Error).message }, 'control socket not opened');
      return undefined;
    }
    server.unref();
    log.info({ path }, 'control socket open');
    return new ControlSocket(path, server, statSync(path).ino);
  }

  /** Stops taking requests and removes the socket file (unless another engine's replaced it). */
  close(): Promise<void> {
    try {
      if (lstatSync(this.path).ino === this.inode) unlinkSync(this.path);
    } catch {
      // already gone
    }
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Why `path` cannot be used, or undefined once it is free (a stale socket removed). */
async function clearStale(path: string): Promise<string | undefined> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return undefined; // nothing there
  }
  if (!isSocket) return 'the path exists and is not a socket';
  if (await answers(path)) return 'another server is listening on it';
  unlinkSync(path);
  return undefined;
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createConnection(path);
    const done = (alive: boolean): void => {
      probe.destroy();
      resolve(alive);
    };
    probe.once('connect', () => done(true));
    probe.once('error', () => done(false));
    probe.setTimeout(PROBE_TIMEOUT_MS, () => done(false));
  });
}

/**
 * Binds with umask 0177, so the socket is 0600 from its first moment (listen() binds
 * synchronously, and the mask is put back at once: a file a worker thread creates in that
 * instant gets a stricter mode at worst), then sets 0600 again for good measure.
 */
function listenPrivately(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const before = process.umask(0o177);
    try {
      server.listen(path, () => {
        server.off('error', reject);
        try {
          chmodSync(path, 0o600);
          resolve();
        } catch (error) {
          server.close();
          reject(error as Error);
        }
      });
    } finally {
      process.umask(before);
    }
  });
}

function serve(socket: Socket, handle: ControlHandler, log: Logger): void {
  let buffered = '';
  const reply = (answer: ControlReply): void => {
    if (!socket.destroyed) socket.end(JSON.stringify(answer) + '\n');
  };
  socket.setEncoding('utf8');
  socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy());
  socket.on('error', () => socket.destroy());
  const onData = (chunk: string): void => {
    buffered += chunk;
    const end = buffered.indexOf('\n');
    if (end === -1) {
      if (buffered.length > MAX_REQUEST_OCTETS) {
        socket.off('data', onData);
        reply({ ok: false, error: 'request too long' });
      }
      return;
    }
    socket.off('data', onData);
    socket.setTimeout(0);
    const request = parseRequest(buffered.slice(0, end));
    if ('error' in request) return reply({ ok: false, error: request.error });
    handle(request).then(reply, (error: unknown) => {
      log.error({ err: error, command: request.command }, 'control request failed');
      reply({ ok: false, error: 'internal error (logged)' });
    });
  };
  socket.on('data', onData);
}
