// A short-lived child of the supervisor that binds the listening sockets and sends each back
// as a raw handle (a dup of the fd over IPC), then exits. The supervisor thus holds listening
// sockets that no event loop of its own watches: it can never accept a connection, and it can
// hand more dups to the engine whenever a worker thread needs one. (Stopping a listening
// Server's accepts in-process is not possible in Node 20.)
import { chmodSync, chownSync, lstatSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import type { BindRequest } from './lmtp-sockets';

export type BinderMessage =
  | { readonly type: 'bound'; readonly name: string; readonly port: number }
  | { readonly type: 'failed'; readonly name: string; readonly reason: string };

// The supervisor died (killed mid-bind): exit at once, closing the ports, or they would stay
// bound with nobody to hand them to (a handle in flight waits for an acknowledgement that never
// comes) and the next start would fail. Node has no PR_SET_PDEATHSIG; the IPC channel's end is
// how a child learns that its parent is gone. Node 20 does not emit 'disconnect' when the
// channel ends with a handle unacknowledged, so `connected` is also polled (the binder lives
// well under a second).
process.once('disconnect', () => process.exit(1));
setInterval(() => {
  if (!process.connected) process.exit(1);
}, 50).unref();

async function main(requests: readonly BindRequest[]): Promise<void> {
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error('binder runs only as a child with IPC');
  const servers: Server[] = [];
  for (const request of requests) {
    if (!process.connected) process.exit(1);
    const server = createServer(() => undefined);
    servers.push(server);
    try {
      if ('path' in request) await removeStaleSocket(request.path);
      // A unix socket is made 0600 and then given its mode and owner: nobody else connects before.
      const umask = 'path' in request ? process.umask(0o177) : undefined;
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen('path' in request ? { path: request.path, backlog: 511 } : { host: request.address, port: request.port, backlog: 511 }, () => resolve());
        });
      } finally {
        if (umask !== undefined) process.umask(umask);
      }
      if ('path' in request) {
        try {
          chownSync(request.path, request.uid, request.gid);
          chmodSync(request.path, request.mode);
        } catch (error) {
          server.close(); // removes the socket file: no start leaves one with the wrong owner
          throw error;
        }
      }
    } catch (error) {
      // Waited for, like 'bound': an exit right after would otherwise drop the reason.
      await new Promise<void>((resolve) => send({ type: 'failed', name: request.name, reason: (error as Error).message } satisfies BinderMessage, undefined, () => resolve()));
      continue;
    }
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const handle = (server as unknown as { _handle: object })._handle;
    await new Promise<void>((resolve) => send({ type: 'bound', name: request.name, port } satisfies BinderMessage, handle as never, () => resolve()));
  }
  // Sent and handed over: exit, closing our copies (the supervisor holds its dups).
  process.disconnect();
  process.exit(0);
}

/**
 * A socket file left by an r2d2 that was killed is removed; anything else at the path (a file,
 * a socket some process still answers on) is an error for the operator.
 */
async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw new Error(`${path} exists and is not a socket`);
  const answered = await new Promise<boolean>((resolve) => {
    const probe = connect({ path }, () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (answered) throw new Error(`${path}: another process listens on it`);
  unlinkSync(path);
}

const requests = JSON.parse(process.argv[2] ?? '[]') as BindRequest[];
main(requests).catch((error: unknown) => {
  process.stderr.write(`r2d2 binder: ${(error as Error).message}\n`);
  process.exit(1);
});
