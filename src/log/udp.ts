import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns';
import { LossCounter, type Transport } from './transport';

/** Datagrams libuv may hold for a socket that cannot send right now; past this, lines are dropped. */
export const MAX_UDP_QUEUE = 256;
/** Lines held while the collector's name is looked up and the socket connected. */
export const MAX_PENDING = 256;
export const RECONNECT_DELAY_MS = 1000;

/**
 * Datagrams straight to a collector (`udp_address`, ServerKit's libc_syslog_bypass_address):
 * no local daemon in between. The socket is connected once (one name lookup), so the ICMP
 * "port unreachable" of a collector that is down comes back as ECONNREFUSED, and those lines
 * are counted as lost (a collector that is unreachable without ICMP loses lines unseen, as
 * UDP does). Nothing here ever waits: sends are asynchronous and bounded.
 */
export class UdpTransport implements Transport {
  readonly losses = new LossCounter();
  private socket: Socket | undefined;
  private state: 'idle' | 'connecting' | 'ready' | 'closed' = 'idle';
  private pending: Buffer[] = [];
  private retryAt = 0;
  private lastError = '';

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly frame: (message: string, level: number) => string,
    private readonly now: () => number = Date.now,
  ) {
    this.connect();
  }

  private get where(): string {
    return `udp ${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  send(message: string, level: number): void {
    if (this.state === 'closed') return this.losses.lose('log closed');
    const data = Buffer.from(this.frame(message, level));
    if (this.state === 'idle' && this.now() >= this.retryAt) this.connect();
    if (this.state === 'connecting') {
      if (this.pending.length < MAX_PENDING) this.pending.push(data);
      else this.losses.lose(`${this.where}: still connecting`);
      return;
    }
    if (this.state !== 'ready' || this.socket === undefined) return this.losses.lose(`${this.where}: ${this.lastError}`);
    this.transmit(this.socket, data);
  }

  private transmit(socket: Socket, data: Buffer): void {
    if (socket.getSendQueueCount() >= MAX_UDP_QUEUE) return this.losses.lose(`${this.where}: send queue full`);
    socket.send(data, (error) => {
      if (error !== null && error !== undefined) this.losses.lose(`${this.where}: ${(error as NodeJS.ErrnoException).code ?? error.message}`);
    });
  }

  private connect(): void {
    this.state = 'connecting';
    lookup(this.host, (lookupError, address, family) => {
      if (this.state === 'closed') return;
      if (lookupError !== null) return this.fail(lookupError.code ?? lookupError.message);
      const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
      this.socket = socket;
      socket.unref(); // a log socket never keeps the process alive
      socket.on('error', (error: NodeJS.ErrnoException) => {
        const code = error.code ?? error.message;
        // Connect failures end the socket. Once connected, an error here is the collector's
        // ICMP "port unreachable" for one datagram (Linux reports it on the receive path).
        if (this.state === 'connecting') this.fail(code);
        else {
          this.lastError = code;
          this.losses.lose(`${this.where}: ${code}`);
        }
      });
      socket.connect(this.port, address, () => {
        if (this.state !== 'connecting') return;
        this.state = 'ready';
        const queued = this.pending;
        this.pending = [];
        for (const data of queued) this.transmit(socket, data);
      });
    });
  }

  private fail(reason: string): void {
    this.lastError = reason;
    for (let i = 0; i < this.pending.length; i++) this.losses.lose(`${this.where}: ${reason}`);
    this.pending = [];
    try {
      this.socket?.close();
    } catch {
      // not running yet or already closed
    }
    this.socket = undefined;
    this.state = 'idle';
    this.retryAt = this.now() + RECONNECT_DELAY_MS;
  }

  close(): Promise<void> {
    const socket = this.socket;
    const wasReady = this.state === 'ready';
    this.state = 'closed';
    this.socket = undefined;
    for (let i = 0; i < this.pending.length; i++) this.losses.lose('log closed');
    this.pending = [];
    if (socket === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      // Let datagrams libuv still holds leave first: a bounded wait of a few loop turns.
      let turns = 0;
      const finish = (): void => {
        if (wasReady && socket.getSendQueueCount() > 0 && turns++ < 100) {
          setImmediate(finish);
          return;
        }
        socket.close(() => resolve());
      };
      finish();
    });
  }
}
