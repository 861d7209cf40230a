// A short-lived child of the supervisor that binds the listening sockets and sends each back
// as a raw handle (a dup of the fd over IPC), then exits. The supervisor thus holds listening
// sockets that no event loop of its own watches: it can never accept a connection, and it can
// hand more dups to the engine whenever a worker thread needs one. (Stopping a listening
// Server's accepts in-process is not possible in Node 20.)
import { createServer, type Server } from 'node:net';

interface BindRequest {
  readonly name: string;
  readonly address: string;
  readonly port: number;
}

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
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: request.address, port: request.port, backlog: 511 }, () => resolve());
      });
    } catch (error) {
      // Sent before the next bind, and before the exit below could drop it.
      await new Promise<void>((resolve) => send({ type: 'failed', name: request.name, reason: (error as Error).message } satisfies BinderMessage, undefined, () => resolve()));
      continue;
    }
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : request.port;
    const handle = (server as unknown as { _handle: object })._handle;
    await new Promise<void>((resolve) => send({ type: 'bound', name: request.name, port } satisfies BinderMessage, handle as never, () => resolve()));
  }
  // Sent and handed over: exit, closing our copies (the supervisor holds its dups).
  process.disconnect();
  process.exit(0);
}

const requests = JSON.parse(process.argv[2] ?? '[]') as BindRequest[];
main(requests).catch((error: unknown) => {
  process.stderr.write(`r2d2 binder: ${(error as Error).message}\n`);
  process.exit(1);
});
