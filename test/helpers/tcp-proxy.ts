import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP relay in front of the real MariaDB, so a test can take "the database" away:
 * stop() refuses and cuts every connection (start() brings it back on the same port), and
 * freeze() keeps connections open while no byte moves either way -- a hung database or a network
 * partition, where nothing is refused and nothing answers; thaw() lets everything flow.
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly pairs = new Set<[Socket, Socket]>();
  /** Bytes held while frozen, per destination socket. */
  private readonly held = new Map<Socket, Buffer[]>();
  private frozen = false;
  port = 0;
  /** Connections accepted so far (to see which server a client used). */
  accepted = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<void> {
    const server = createServer((client) => {
      this.accepted++;
      const upstream = connect(this.targetPort, this.targetHost);
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      for (const s of pair) {
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
        s.on('close', () => {
          this.pairs.delete(pair);
          this.held.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      this.forward(client, upstream);
      this.forward(upstream, client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (typeof address === 'object' && address !== null) this.port = address.port;
    this.server = server;
  }

  freeze(): void {
    this.frozen = true;
  }

  thaw(): void {
    this.frozen = false;
    for (const [to, chunks] of this.held) for (const chunk of chunks.splice(0)) to.write(chunk);
  }

  async stop(): Promise<void> {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  private forward(from: Socket, to: Socket): void {
    from.on('data', (chunk: Buffer) => {
      if (!this.frozen) {
        to.write(chunk);
        return;
      }
      const queue = this.held.get(to) ?? [];
      queue.push(chunk);
      this.held.set(to, queue);
    });
  }
}
