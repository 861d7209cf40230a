import type { Socket } from 'node:net';
import { open } from 'node:fs/promises';
import type { Logger } from 'pino';
import { LineReader } from '../pop3/line-reader';
import { MAX_QUEUED_LINES } from '../pop3/limits';
import { MessageEncoder } from '../pop3/message-encoder';
import { encodeReply, statusLine, type Reply } from '../pop3/replies';
import type { Pop3Session } from '../pop3/session';
import type { CloseReason } from '../pop3/state';

/** Bytes read from a message file at a time, and the size at which output is flushed. */
const CHUNK_OCTETS = 64 * 1024;

type MessageReply = Extract<Reply, { kind: 'message' }>;

/**
 * Drives one POP3 session over one socket: the only place that reads from or writes to it.
 * One command is in flight at a time; its reply, a streamed message included, is fully
 * handed to the socket (waiting for `drain` when the socket says so) before the next
 * command is read. Reading pauses while too many pipelined lines wait.
 */
export class Connection {
  private readonly reader = new LineReader();
  private running = false;
  private closing: CloseReason | undefined;
  private delays = 0;
  private finished = false;
  /** The client closed its side; lines it sent before are still answered (a pipelined QUIT counts). */
  private peerEnded = false;
  private readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(
    private readonly socket: Socket,
    private readonly session: Pop3Session,
    private readonly log: Logger,
    idleTimeoutMs: number,
  ) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    socket.setNoDelay(true);
    socket.setTimeout(idleTimeoutMs);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('timeout', () => this.onTimeout());
    socket.on('end', () => {
      this.peerEnded = true;
      if (!this.running) void this.run();
    });
    socket.on('close', () => this.stop('peer closed'));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.log.debug({ code: error.code }, 'socket error');
      this.stop('peer closed');
    });
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

  private onTimeout(): void {
    if (this.closing !== undefined) return;
    // RFC 1939 §3: the autologout timer ends the session without entering UPDATE.
    this.socket.write(statusLine(false, 'autologout: idle for too long'));
    this.stop('timeout');
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      for (let event = this.reader.next(); event !== undefined && this.closing === undefined; event = this.reader.next()) {
        if (this.reader.queued <= MAX_QUEUED_LINES / 2 && this.socket.isPaused()) this.socket.resume();
        const step = await this.session.handle(event);
        if (this.closing !== undefined && step.close === undefined) break; // peer went away meanwhile
        await this.send(step.reply);
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
    if (reason !== 'peer quit' && reason !== 'too many bad commands') this.socket.destroySoon();
    if (!this.running) void this.finish();
  }

  /** Once, after any command in flight has settled: release the maildrop and log the line. */
  private async finish(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    try {
      await this.session.abandon();
    } catch (error) {
      this.log.error({ err: error }, 'releasing the maildrop failed');
    }
    if (!this.socket.destroyed) this.socket.end();
    this.log.info(`disconnected: ${this.closing ?? 'error'}, sequence="${this.session.sequence.toString()}" delays="${this.delays}"`);
    this.resolveDone();
  }

  private async send(reply: Reply): Promise<void> {
    if (reply.kind === 'message') return this.sendMessage(reply);
    await this.write(encodeReply(reply));
  }

  private async sendMessage(reply: MessageReply): Promise<void> {
    let file;
    try {
      file = await open(reply.path, 'r');
    } catch (error) {
      const vanished = (error as NodeJS.ErrnoException).code === 'ENOENT';
      this.log.warn({ file: reply.path, code: (error as NodeJS.ErrnoException).code }, 'message cannot be opened');
      await this.write(statusLine(false, vanished ? 'message was removed from the maildrop' : '[SYS/TEMP] message cannot be read now'));
      return;
    }
    try {
      const encoder = new MessageEncoder(reply.bodyLines);
      const buffer = Buffer.allocUnsafe(CHUNK_OCTETS);
      let parts: Buffer[] = [Buffer.from(statusLine(true, reply.head))];
      let pending = parts[0]?.length ?? 0;
      while (!encoder.done) {
        const { bytesRead } = await file.read(buffer, 0, CHUNK_OCTETS, null);
        if (bytesRead === 0) break;
        const out = encoder.encode(buffer.subarray(0, bytesRead));
        parts.push(out);
        pending += out.length;
        if (pending >= CHUNK_OCTETS) {
          await this.write(Buffer.concat(parts, pending));
          parts = [];
          pending = 0;
        }
      }
      parts.push(encoder.end());
      await this.write(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts));
    } finally {
      await file.close();
    }
  }

  /** Writes, and when the socket asks us to wait, waits for `drain` (counted in delays=). */
  private write(data: string | Buffer): Promise<void> | void {
    if (this.socket.destroyed) return;
    if (this.socket.write(data)) return;
    this.delays++;
    return new Promise((resolve) => {
      const done = (): void => {
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
  return reply.kind === 'line' ? reply.text : reply.head;
}
