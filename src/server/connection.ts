import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { LineReader } from '../pop3/line-reader';
import { MAX_QUEUED_LINES } from '../pop3/limits';
import { MessageEncoder } from '../pop3/message-encoder';
import { encodeReply, statusLine, type Reply } from '../pop3/replies';
import type { Pop3Session } from '../pop3/session';
import type { CloseReason } from '../pop3/state';
import type { TransportSecurity } from '../pop3/security';
import { closeFile, openFile, readChunk, readSmallFile } from './message-file';
import { describeTls, startTls } from './start-tls';
import type { TlsContexts } from './tls-contexts';

/** Bytes read from a message file at a time, and the size at which output is flushed. */
const CHUNK_OCTETS = 64 * 1024;

type MessageReply = Extract<Reply, { kind: 'message' }>;

export interface ConnectionOptions {
  /** RFC 1939 §3's autologout: no command and no reply progress for this long. */
  readonly idleTimeoutMs: number;
  /** Not logged in this long after connecting: closed (a slow client holds no slot for ever). */
  readonly loginTimeoutMs: number;
  /** Messages up to this size are read with blocking calls (see message-file.ts); 0 = never. */
  readonly syncReadMax: number;
  /** Implicit TLS: the protocol and cipher of the handshake already done. */
  readonly tlsDescription?: string;
  readonly security: TransportSecurity;
  /** The listener's certificates, for STLS; undefined where none are configured. */
  readonly tls: TlsContexts | undefined;
}

/**
 * Drives one POP3 session over one socket: the only place that reads from or writes to it.
 * One command is in flight at a time; its reply, a streamed message included, is fully
 * handed to the socket (waiting for `drain` when the socket says so) before the next
 * command is read. Reading pauses while too many pipelined lines wait.
 */
export class Connection {
  private reader = new LineReader();
  private running = false;
  private closing: CloseReason | undefined;
  private delays = 0;
  private finished = false;
  /** The client closed its side; lines it sent before are still answered (a pipelined QUIT counts). */
  private peerEnded = false;
  private readonly done: Promise<void>;
  private resolveDone!: () => void;

  private readonly idleTimer: NodeJS.Timeout;
  /** Protocol and cipher, taken when the handshake completes (a closed socket no longer says). */
  private tls: string | undefined;
  private loginTimer: NodeJS.Timeout | undefined;

  private readonly handlers = {
    data: (chunk: Buffer): void => this.onData(chunk),
    end: (): void => {
      this.peerEnded = true;
      if (!this.running) void this.run();
    },
    close: (): void => this.stop('peer closed'),
    error: (error: NodeJS.ErrnoException): void => {
      this.log.debug({ code: error.code }, 'socket error');
      this.stop('peer closed');
    },
  };

  constructor(
    private socket: Socket,
    private readonly session: Pop3Session,
    private readonly log: Logger,
    private readonly options: ConnectionOptions,
  ) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.tls = options.tlsDescription;
    socket.setNoDelay(true);
    // Activity is a complete command or a reply making progress, not any byte: a client
    // trickling a byte a minute, or never finishing a line, is idle.
    this.idleTimer = setTimeout(() => this.onTimeout('autologout: idle for too long'), options.idleTimeoutMs);
    this.loginTimer = setTimeout(() => this.onTimeout('autologout: no login in time'), options.loginTimeoutMs);
    this.attach(socket);
  }

  private attach(socket: Socket): void {
    const h = this.handlers;
    socket.on('data', h.data).on('end', h.end).on('close', h.close).on('error', h.error);
  }

  private detach(socket: Socket): void {
    const h = this.handlers;
    socket.off('data', h.data).off('end', h.end).off('close', h.close).off('error', h.error);
  }

  /**
   * STLS (RFC 2595 §4): whatever the client pipelined after STLS in plaintext is discarded,
   * never executed (the CVE-2011-0411 class), then the handshake runs on the same socket and
   * the session starts over in AUTHORIZATION.
   */
  private async upgrade(): Promise<void> {
    const contexts = this.options.tls;
    if (contexts === undefined) throw new Error('STLS accepted without certificates');
    const raw = this.socket;
    this.detach(raw);
    this.reader = new LineReader();
    let secure: TLSSocket;
    try {
      secure = await startTls(raw, contexts);
    } catch (error) {
      this.log.info({ reason: (error as Error).message }, 'tls handshake failed after STLS');
      this.stop('peer closed');
      return;
    }
    this.socket = secure;
    this.attach(secure);
    this.options.security.secure = true;
    this.session.restartAfterTls();
    this.tls = describeTls(secure);
    this.log.info({ tls: this.tls }, 'tls started');
  }

  /** The TLS protocol and cipher when the session is inside TLS, for the disconnect line. */
  private tlsSuffix(): string {
    return this.tls === undefined ? '' : ` tls="${this.tls}"`;
  }

  /** Sends the greeting and resolves when the session has ended and been logged. */
  start(): Promise<void> {
    this.socket.write(statusLine(true, textOf(this.session.greeting())));
    return this.done;
  }

  /** Ends the session from outside (shutdown): no deletions are applied. */
  shutdown(): void {
    if (this.closing !== undefined) return;
    this.socket.write(statusLine(false, '[SYS/TEMP] server shutting down'));
    this.stop('server shutdown');
  }

  private onData(chunk: Buffer): void {
    if (this.closing !== undefined) return;
    this.reader.push(chunk);
    if (this.reader.queued > MAX_QUEUED_LINES) this.socket.pause();
    if (!this.running) void this.run();
  }

  private onTimeout(text: string): void {
    if (this.closing !== undefined) return;
    // RFC 1939 §3: the autologout timer ends the session without entering UPDATE.
    this.socket.write(statusLine(false, text));
    this.stop('timeout');
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      for (let event = this.reader.next(); event !== undefined && this.closing === undefined; event = this.reader.next()) {
        if (this.reader.queued <= MAX_QUEUED_LINES / 2 && this.socket.isPaused()) this.socket.resume();
        this.idleTimer.refresh();
        const step = await this.session.handle(event);
        if (this.loginTimer !== undefined && this.session.state.kind !== 'AUTHORIZATION') {
          clearTimeout(this.loginTimer);
          this.loginTimer = undefined;
        }
        if (this.closing !== undefined && step.close === undefined) break; // peer went away meanwhile
        await this.send(step.reply);
        if (step.startTls === true) await this.upgrade();
        if (step.close !== undefined) {
          this.socket.end();
          this.stop(step.close);
        }
      }
      if (this.peerEnded && this.reader.queued === 0) this.stop('peer closed');
    } catch (error) {
      this.log.error({ err: error }, 'session failed');
      this.stop('error');
    } finally {
      this.running = false;
      if (this.closing !== undefined) void this.finish();
      else if (this.socket.isPaused()) this.socket.resume();
    }
  }

  private stop(reason: CloseReason): void {
    if (this.closing === undefined) this.closing = reason;
    if (reason !== 'peer quit' && reason !== 'too many bad commands') {
      // A client that stopped reading would hold destroySoon() open for ever: cut it off.
      if (this.socket.writableLength > CHUNK_OCTETS) this.socket.destroy();
      else this.socket.destroySoon();
    }
    if (!this.running) void this.finish();
  }

  /** Once, after any command in flight has settled: release the maildrop and log the line. */
  private async finish(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.idleTimer);
    clearTimeout(this.loginTimer);
    try {
      await this.session.abandon();
    } catch (error) {
      this.log.error({ err: error }, 'releasing the maildrop failed');
    }
    try {
      if (!this.socket.destroyed) this.socket.end();
      this.log.info(`disconnected: ${this.closing ?? 'error'}, sequence="${this.session.sequence.toString()}" delays="${this.delays}"${this.tlsSuffix()}`);
    } finally {
      // Whatever happened above, the server must learn that this session is over.
      this.resolveDone();
    }
  }

  private async send(reply: Reply): Promise<void> {
    if (reply.kind === 'message') return this.sendMessage(reply);
    await this.write(encodeReply(reply));
  }

  private async sendMessage(reply: MessageReply): Promise<void> {
    const head = Buffer.from(statusLine(true, reply.head));
    try {
      if (reply.octets <= this.options.syncReadMax) {
        const whole = readSmallFile(reply.path, reply.octets);
        // undefined: the file is larger than its name says; stream it like a large one.
        if (whole !== undefined) {
          const encoder = new MessageEncoder(reply.bodyLines);
          const body = encoder.encode(whole);
          // One writev for the three pieces, no copy into a joined buffer.
          this.socket.cork();
          this.socket.write(head);
          this.socket.write(body);
          const written = this.write(encoder.end());
          this.socket.uncork();
          await written;
          return;
        }
      }
      await this.streamMessage(reply, head, await openFile(reply.path));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === undefined || this.socket.destroyed) throw error;
      // Nothing was sent yet when open or the first read fails: the client gets -ERR, the session goes on.
      this.log.warn({ file: reply.path, code }, 'message cannot be read');
      await this.write(statusLine(false, code === 'ENOENT' ? 'message was removed from the maildrop' : '[SYS/TEMP] message cannot be read now'));
    }
  }

  /**
   * A large message: read, encode and write 64 KiB at a time, waiting for drain. The next
   * read starts as soon as a chunk is encoded (the encoder copies it), so the disk works
   * while the socket drains.
   */
  private async streamMessage(reply: MessageReply, head: Buffer, fd: number): Promise<void> {
    let reading: Promise<number> | undefined;
    try {
      const encoder = new MessageEncoder(reply.bodyLines);
      const buffer = Buffer.allocUnsafe(CHUNK_OCTETS);
      let parts: Buffer[] = [head];
      let pending = head.length;
      let sent = false;
      reading = readChunk(fd, buffer);
      for (;;) {
        const current: Promise<number> = reading ?? Promise.resolve(0);
        let bytesRead: number;
        try {
          bytesRead = await current;
        } catch (error) {
          // Once part of the reply is out, an -ERR cannot follow: end the session.
          if (sent) throw new Error(`reading ${reply.path} failed mid-reply: ${(error as Error).message}`);
          throw error;
        } finally {
          reading = undefined;
        }
        if (bytesRead === 0) break;
        const out = encoder.encode(buffer.subarray(0, bytesRead));
        if (!encoder.done) reading = readChunk(fd, buffer);
        parts.push(out);
        pending += out.length;
        if (pending >= CHUNK_OCTETS) {
          await this.write(Buffer.concat(parts, pending));
          sent = true;
          parts = [];
          pending = 0;
          if (this.socket.destroyed) return; // the client is gone: read no further
        }
        if (encoder.done) break;
      }
      parts.push(encoder.end());
      await this.write(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts));
    } finally {
      // A read still in flight (the session ended mid-reply) must finish before the fd closes.
      if (reading !== undefined) await reading.catch(() => 0);
      closeFile(fd);
    }
  }

  /** Writes, and when the socket asks us to wait, waits for `drain` (counted in delays=). */
  private write(data: string | Buffer): Promise<void> | void {
    if (this.socket.destroyed) return;
    if (this.socket.write(data)) return;
    this.delays++;
    return new Promise((resolve) => {
      const done = (): void => {
        this.idleTimer.refresh(); // the client is reading: the reply made progress
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }
}

function textOf(reply: Reply): string {
  return reply.kind === 'line' ? reply.text : reply.kind === 'continue' ? reply.challenge : reply.head;
}
