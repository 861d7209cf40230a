// A worker's listening sockets, one per configured listener, and each one's TLS certificates.
// At SIGHUP listeners come and go: a new one listens on the socket the supervisor bound for it;
// a removed one stops accepting at once while the sessions it accepted go on.
import { closeSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ListenerConfig } from '../config/types';
import { TlsContexts } from './tls-contexts';

export interface BoundListener {
  readonly name: string;
  readonly address: string;
  readonly port: number;
}

/** A connection accepted on `listener`, with the certificates it has now. */
export type Accept = (listener: ListenerConfig, tls: TlsContexts | undefined, socket: Socket) => void;

interface Listening {
  config: ListenerConfig;
  tls: TlsContexts | undefined;
  readonly server: Server;
  readonly port: number;
}

export class ListenerSet {
  private readonly open = new Map<string, Listening>();

  constructor(
    private readonly accept: Accept,
    private readonly log: Logger,
  ) {}

  get bound(): BoundListener[] {
    return [...this.open.values()].map((l) => ({ name: l.config.name, address: l.config.address, port: l.port }));
  }

  /**
   * Every listener, on its fd when given one (a worker thread), else bound here. Certificates
   * are loaded before any port is bound: a bad pair stops the start, clearly.
   */
  async start(listeners: readonly ListenerConfig[], fds: ReadonlyMap<string, number> | undefined): Promise<void> {
    const contexts = new Map<string, TlsContexts>();
    for (const l of listeners) if (l.tlsConfig !== undefined) contexts.set(l.name, new TlsContexts(l.tlsConfig));
    try {
      for (const l of listeners) {
        const port = await this.listen(l, contexts.get(l.name), fds?.get(l.name));
        if (fds?.has(l.name) !== true) this.log.info({ listener: l.name, tls: l.tls }, `listening on ${l.address}:${port}`);
      }
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /**
   * SIGHUP. `fds`: listeners new to this worker (or moved to another address) and their sockets.
   * Listeners no longer configured stop accepting now; the others take their new settings and
   * certificates for new connections (bad certificates: the old ones stay). Returns the errors.
   */
  async update(listeners: readonly ListenerConfig[], fds: ReadonlyMap<string, number>): Promise<string[]> {
    const wanted = new Set(listeners.map((l) => l.name));
    for (const [name, listening] of this.open) {
      if (wanted.has(name) && !fds.has(name)) continue;
      listening.server.close(); // stops accepting; the connections it accepted are not touched
      this.open.delete(name);
    }
    const errors: string[] = [];
    for (const l of listeners) {
      const fd = fds.get(l.name);
      if (fd === undefined) {
        const error = this.retune(l);
        if (error !== undefined) errors.push(error);
        continue;
      }
      let tls: TlsContexts | undefined;
      try {
        tls = l.tlsConfig === undefined ? undefined : new TlsContexts(l.tlsConfig);
      } catch (error) {
        closeSync(fd); // nobody would accept on it
        errors.push(this.notOpened(l, error));
        continue;
      }
      await this.listen(l, tls, fd).catch((error: unknown) => errors.push(this.notOpened(l, error)));
    }
    return errors;
  }

  /** Stops accepting everywhere; resolves when every connection accepted has ended. */
  close(): Promise<void> {
    const closing = [...this.open.values()].map((l) => new Promise((resolve) => l.server.close(resolve)));
    this.open.clear();
    return Promise.all(closing).then(() => undefined);
  }

  private notOpened(listener: ListenerConfig, error: unknown): string {
    this.log.error({ listener: listener.name, reason: (error as Error).message }, 'listener not opened');
    return `listen "${listener.name}": ${(error as Error).message}`;
  }

  /** New settings for a listener kept open; its certificates are re-read. */
  private retune(next: ListenerConfig): string | undefined {
    const listening = this.open.get(next.name);
    if (listening === undefined) return undefined;
    if (next.tlsConfig === undefined) {
      listening.config = next;
      listening.tls = undefined;
      return undefined;
    }
    try {
      if (listening.tls === undefined) listening.tls = new TlsContexts(next.tlsConfig);
      else listening.tls.reload(next.tlsConfig);
    } catch (error) {
      this.log.error({ listener: next.name, reason: (error as Error).message }, 'tls reload refused: keeping the old certificates');
      return `listen "${next.name}": ${(error as Error).message}`;
    }
    listening.config = next;
    this.log.info({ listener: next.name }, 'tls certificates reloaded');
    return undefined;
  }

  private async listen(config: ListenerConfig, tls: TlsContexts | undefined, fd: number | undefined): Promise<number> {
    const { name } = config;
    const server = createServer({ allowHalfOpen: true }, (socket) => {
      const listening = this.open.get(name);
      if (listening?.server === server) this.accept(listening.config, listening.tls, socket);
      else socket.destroy(); // accepted just as its listener closed
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const where = fd !== undefined ? { fd } : { host: config.address, port: config.port, backlog: 511 };
      server.listen(where, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : config.port;
    this.open.set(name, { config, tls, server, port });
    return port;
  }
}

/**
 * What makes a listener the same across a reload: its name and the socket it listens on. Any
 * other setting (tls, certificates, plaintext_auth) changes on the open socket.
 */
export function listenerKey(listener: Pick<ListenerConfig, 'name' | 'address' | 'port'>): string {
  return JSON.stringify([listener.name, listener.address, listener.port]);
}
