import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { Clock } from '../pop3/clock';
import type { TransportSecurity } from '../pop3/security';
import type { Pop3Session } from '../pop3/session';
import { SessionRunner } from '../pop3/session-runner';
import type { CloseReason } from '../pop3/state';
import type { Wire } from '../pop3/wire';
import type { ListenerMetrics } from './metrics/hooks';
import { handshakeDone, handshakeFailed } from './metrics/tls-outcome';
import { describeTls, startTls } from './start-tls';
import type { TlsContexts } from './tls-contexts';

export interface ConnectionOptions {
  readonly idleTimeoutMs: number;
  readonly loginTimeoutMs: number;
  readonly clock: Clock;
  /** Implicit TLS: the protocol and cipher of the handshake already done. */
  readonly tlsDescription?: string;
  readonly security: TransportSecurity;
  /** The listener's certificates, for STLS; undefined where none are configured. */
  readonly tls: TlsContexts | undefined;
  /** The listener's figures: bytes sent, the STLS handshake. */
  readonly metrics: ListenerMetrics;
}

/**
 * One POP3 session over one socket: the only place that reads from or writes to it. It moves
 * bytes -- the socket's events to the session runner (pop3/session-runner.ts), the runner's
 * replies to the socket with drain -- and runs the STLS handshake.
 */
export class Connection implements Wire {
  private readonly runner: SessionRunner;
  tls: string | undefined;
  /** Octets of POP3 replies handed to the socket (before TLS), for `r2d2 who`. */
  sent = 0;

  private readonly handlers = {
    data: (chunk: Buffer): void => this.runner.receive(chunk),
    end: (): void => this.runner.peerEnd(),
    close: (): void => this.runner.peerClosed(),
    error: (error: NodeJS.ErrnoException): void => {
      this.log.debug({ code: error.code }, 'socket error');
      this.runner.peerClosed();
    },
  };

  constructor(
    private socket: Socket,
    session: Pop3Session,
    private readonly log: Logger,
    private readonly options: ConnectionOptions,
  ) {
    this.tls = options.tlsDescription;
    socket.setNoDelay(true);
    this.runner = new SessionRunner(this, session, log, options);
    this.attach(socket);
    // Left paused by a PROXY header read (proxy-protocol/read-header.ts): 'data' alone would not resume it.
    if (socket.isPaused()) socket.resume();
  }

  /** Sends the greeting; resolves with why the session ended, once it has and been logged. */
  start(): Promise<CloseReason> {
    return this.runner.start();
  }

  /** Ends the session from outside (shutdown): no deletions are applied. */
  shutdown(): void {
    this.runner.shutdown();
  }

  /** Ends the session for an operator (`r2d2 kick`): no deletions are applied. */
  kick(): boolean {
    return this.runner.kick();
  }

  get gone(): boolean {
    return this.socket.destroyed;
  }

  get buffered(): number {
    return this.socket.writableLength;
  }

  write(data: string | readonly Buffer[]): Promise<void> | void {
    const socket = this.socket;
    if (socket.destroyed) return;
    this.options.metrics.sent(data);
    let flushed: boolean;
    if (typeof data === 'string') {
      this.sent += Buffer.byteLength(data);
      flushed = socket.write(data);
    } else if (data.length === 1) {
      this.sent += (data[0] as Buffer).length;
      flushed = socket.write(data[0] as Buffer);
    } else {
      // The pieces of one chunk leave in one writev, without a joined copy.
      socket.cork();
      flushed = true;
      for (const piece of data) {
        this.sent += piece.length;
        flushed = socket.write(piece);
      }
      socket.uncork();
    }
    if (flushed) return;
    return new Promise((resolve) => {
      const done = (): void => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
  }

  cork(): void {
    this.socket.cork();
  }

  uncork(): void {
    this.socket.uncork();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    if (this.socket.isPaused()) this.socket.resume();
  }

  end(): void {
    if (!this.socket.destroyed) this.socket.end();
  }

  destroy(soon: boolean): void {
    if (soon) this.socket.destroySoon();
    else this.socket.destroy();
  }

  /** RFC 2595 §4: the handshake on the same socket; the plaintext reader is gone by now. */
  async startTls(): Promise<boolean> {
    const contexts = this.options.tls;
    if (contexts === undefined) throw new Error('STLS accepted without certificates');
    const raw = this.socket;
    this.detach(raw);
    let secure: TLSSocket;
    try {
      secure = await startTls(raw, contexts);
      this.options.metrics.handshake(handshakeDone(secure));
    } catch (error) {
      this.options.metrics.handshake(handshakeFailed(error));
      this.log.info({ reason: (error as Error).message }, 'tls handshake failed after STLS');
      return false;
    }
    this.socket = secure;
    this.attach(secure);
    this.options.security.secure = true;
    this.tls = describeTls(secure);
    return true;
  }

  private attach(socket: Socket): void {
    const h = this.handlers;
    socket.on('data', h.data).on('end', h.end).on('close', h.close).on('error', h.error);
  }

  private detach(socket: Socket): void {
    const h = this.handlers;
    socket.off('data', h.data).off('end', h.end).off('close', h.close).off('error', h.error);
  }
}
