import type { Logger } from 'pino';
import type { Clock, Timer } from './clock';
import { LineReader } from './line-reader';
import { MAX_COMMAND_LINE_OCTETS, MAX_QUEUED_LINES, MAX_SASL_RESPONSE_OCTETS } from './limits';
import { messageChunks } from './message-reply';
import { ReplyBuffers } from './reply-buffers';
import { encodeReply, statusLine, type Reply } from './replies';
import type { Pop3Session } from './session';
import type { CloseReason } from './state';
import type { Wire } from './wire';

export interface RunnerOptions {
  /** RFC 1939 §3's autologout: no command and no reply progress for this long. */
  readonly idleTimeoutMs: number;
  /** Not logged in this long after connecting: closed (a slow client holds no slot for ever). */
  readonly loginTimeoutMs: number;
  readonly clock: Clock;
}

/** A shutdown waits this long for the reply in flight to be taken before it cuts the connection. */
const SHUTDOWN_GRACE_MS = 5000;
/** Past this much unsent output a closing connection is cut rather than flushed. */
const FLUSH_LIMIT_OCTETS = 64 * 1024;

/**
 * Drives one POP3 session over a Wire: bytes in, replies out. One command is in flight at a
 * time; its reply, a streamed message included, is fully handed to the wire (waiting for drain
 * when the wire says so) before the next command is read, and reading pauses while too many
 * pipelined lines wait. A notice the server sends on its own (shutdown, autologout) never lands
 * inside a multi-line reply: it follows the reply in flight.
 */
export class SessionRunner {
  private reader = new LineReader(() => this.lineLimit());
  private running = false;
  private closing: CloseReason | undefined;
  /** An -ERR to send once the multi-line reply in flight is written. */
  private notice: string | undefined;
  private streaming = false;
  /** Replies are held (wire.cork) while more pipelined commands wait: the burst's answers leave together. */
  private corked = false;
  /** A line is being handled: what arrives meanwhile was sent before its reply (so is no SASL response). */
  private handling = false;
  private delays = 0;
  private finished = false;
  /** The client closed its side; lines it sent before are still answered (a pipelined QUIT counts). */
  private peerEnded = false;
  private readonly idle: Timer;
  /** RETR/TOP's buffers, from the thread's pool, reused while nothing written is still in flight. */
  private readonly replyBuffers = new ReplyBuffers(() => this.wire.buffered === 0);
  private login: Timer | undefined;
  private grace: Timer | undefined;
  private readonly done: Promise<CloseReason>;
  private resolveDone!: (reason: CloseReason) => void;

  constructor(
    private readonly wire: Wire,
    private readonly session: Pop3Session,
    private readonly log: Logger,
    private readonly options: RunnerOptions,
  ) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    // Activity is a complete command or a reply making progress, not any byte: a client
    // trickling a byte a minute, or never finishing a line, is idle.
    this.idle = options.clock.timer(options.idleTimeoutMs, () => this.onTimeout('autologout: idle for too long', true));
    this.login = options.clock.timer(options.loginTimeoutMs, () => this.onTimeout('autologout: no login in time', false));
  }

  /** Sends the greeting; resolves with why the session ended, once it has and been logged. */
  start(): Promise<CloseReason> {
    this.wire.write(this.session.greeting());
    return this.done;
  }

  /** Bytes from the client. */
  receive(chunk: Buffer): void {
    if (this.closing !== undefined) return;
    this.reader.push(chunk);
    if (this.reader.queued > MAX_QUEUED_LINES) this.wire.pause();
    if (!this.running) void this.run();
  }

  /** The client ended its side (FIN). */
  peerEnd(): void {
    this.peerEnded = true;
    if (!this.running) void this.run();
  }

  /** The connection is gone (closed, reset, failed). */
  peerClosed(): void {
    this.stop('peer closed');
  }

  /** Ends the session from outside (shutdown): no deletions are applied. */
  shutdown(): void {
    this.announce('[SYS/TEMP] server shutting down', 'server shutdown');
  }

  /** An operator ends the session (`r2d2 kick`): as a shutdown, no deletions are applied. False: it was ending anyway. */
  kick(): boolean {
    if (this.closing !== undefined) return false;
    this.announce('[SYS/TEMP] disconnected by the server administrator', 'kicked');
    return true;
  }

  private onTimeout(text: string, idle: boolean): void {
    if (this.closing !== undefined) return;
    // Idle mid-reply means the client has not taken a byte for that long: nobody would read a notice.
    if (this.streaming && idle) {
      this.closing = 'timeout';
      this.wire.destroy(false);
      return;
    }
    // RFC 1939 §3: the autologout timer ends the session without entering UPDATE.
    this.announce(text, 'timeout');
  }

  private announce(text: string, reason: CloseReason): void {
    if (this.closing !== undefined) return;
    if (this.streaming || this.handling) {
      // Never inside a message (Dovecot queues it the same way), nor while a command runs: a
      // QUIT in UPDATE goes on deleting, so its +OK must come, not this -ERR (which would tell
      // the client its messages were kept). Sent once the reply is written; after a QUIT, not at all.
      this.closing = reason;
      this.notice = text;
      this.grace = this.options.clock.timer(SHUTDOWN_GRACE_MS, () => this.wire.destroy(false));
      return;
    }
    this.release();
    this.wire.write(statusLine(false, text));
    this.stop(reason);
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      for (let event = this.reader.next(); event !== undefined && this.closing === undefined; event = this.reader.next()) {
        if (this.reader.queued <= MAX_QUEUED_LINES / 2) this.wire.resume();
        this.idle.refresh();
        this.handling = true;
        const step = await this.session.handle(event).finally(() => (this.handling = false));
        if (this.login !== undefined && this.session.state.kind !== 'AUTHORIZATION') {
          this.login.cancel();
          this.login = undefined;
        }
        if (step.close !== undefined && this.notice !== undefined) {
          // A shutdown or kick came while QUIT ran: its UPDATE is done, so the client gets its
          // +OK and the session ends as it asked; the notice is moot.
          this.notice = undefined;
          this.closing = undefined;
        }
        if (this.closing !== undefined && step.close === undefined) break; // peer went away, or a notice waits
        // While more pipelined commands wait, replies are held and leave with the burst's last
        // one; a streamed message is not held (nor what precedes it), nor anything past STLS or QUIT.
        const last = this.reader.queued === 0 || step.reply.kind === 'message' || step.startTls === true || step.close !== undefined;
        if (!last) this.hold();
        if (step.reply.kind === 'message') this.release();
        await this.send(step.reply);
        if (last) this.release();
        if (this.notice !== undefined) break;
        if (step.startTls === true) await this.upgrade();
        if (step.close !== undefined) {
          this.wire.end();
          this.stop(step.close);
        }
      }
      this.release();
      if (this.notice !== undefined) {
        this.wire.write(statusLine(false, this.notice));
        this.notice = undefined;
        this.stop(this.closing ?? 'server shutdown');
      }
      if (this.peerEnded && this.reader.queued === 0) this.stop('peer closed');
    } catch (error) {
      this.log.error({ err: error }, 'session failed');
      this.stop('error');
    } finally {
      this.release();
      this.running = false;
      if (this.closing !== undefined) void this.finish();
      else this.wire.resume();
    }
  }

  private async send(reply: Reply): Promise<void> {
    if (reply.kind !== 'message') return this.write(encodeReply(reply));
    this.streaming = true;
    try {
      for await (const chunk of messageChunks(reply, this.replyBuffers)) {
        await this.write(chunk);
        if (this.wire.gone) return; // the client is gone: read no further
      }
    } finally {
      this.streaming = false;
    }
  }

  /** Writes, and when the wire asks us to wait, waits for drain (counted in delays=). */
  private async write(data: string | readonly Buffer[]): Promise<void> {
    if (this.wire.gone) return;
    const waiting = this.wire.write(data);
    if (waiting === undefined) return;
    this.release(); // a corked socket never drains
    this.delays++;
    await waiting;
    this.idle.refresh(); // the client is reading: the reply made progress
  }

  /**
   * STLS (RFC 2595 §4): whatever the client pipelined after STLS in plaintext is discarded,
   * never executed (the CVE-2011-0411 class); the session then starts over in AUTHORIZATION.
   */
  private async upgrade(): Promise<void> {
    this.reader = new LineReader(() => this.lineLimit());
    if (!(await this.wire.startTls())) {
      this.stop('peer closed');
      return;
    }
    this.session.restartAfterTls();
    this.log.info({ tls: this.wire.tls }, 'tls started');
  }

  /**
   * RFC 5034 §4: only the line answering a "+ " the client has seen may be a long SASL response;
   * lines queued behind it, or sent while a line is handled, are commands.
   */
  private lineLimit(): number {
    const answering = this.session.awaitingSaslResponse && !this.handling && this.reader.queued === 0;
    return answering ? MAX_SASL_RESPONSE_OCTETS : MAX_COMMAND_LINE_OCTETS;
  }

  private hold(): void {
    if (this.corked) return;
    this.corked = true;
    this.wire.cork();
  }

  /** Lets held replies go, in one write. */
  private release(): void {
    if (!this.corked) return;
    this.corked = false;
    this.wire.uncork();
  }

  private stop(reason: CloseReason): void {
    this.release();
    if (this.closing === undefined) this.closing = reason;
    if (reason !== 'peer quit' && reason !== 'too many bad commands') {
      // A client that stopped reading would hold a soft close open for ever: cut it off.
      this.wire.destroy(this.wire.buffered <= FLUSH_LIMIT_OCTETS);
    }
    if (!this.running) void this.finish();
  }

  /** Once, after any command in flight has settled: release the maildrop and log the line. */
  private async finish(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    this.idle.cancel();
    this.login?.cancel();
    this.grace?.cancel();
    try {
      await this.session.abandon();
    } catch (error) {
      this.log.error({ err: error }, 'releasing the maildrop failed');
    }
    try {
      if (!this.wire.gone) this.wire.end();
      this.replyBuffers.retire();
      const tls = this.wire.tls === undefined ? '' : ` tls="${this.wire.tls}"`;
      this.log.info(`disconnected: ${this.closing ?? 'error'}, sequence="${this.session.sequence.toString()}" delays="${this.delays}"${tls}`);
    } finally {
      // Whatever happened above, the server must learn that this session is over.
      this.resolveDone(this.closing ?? 'error');
    }
  }
}
