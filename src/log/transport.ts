import pino from 'pino';

/**
 * Where r2d2's messages go. `send` is called on the session's own turn of the event loop, so it
 * never waits and never throws: a line that cannot go out now (no socket, dead collector,
 * full buffer) is dropped and counted in `losses`, and POP3 goes on at full speed.
 */
export interface Transport {
  /** `message` is what follows `tag[pid]: ` (`[1] disconnected: ...`); `level` is pino's number. */
  send(message: string, level: number): void;
  readonly losses: LossCounter;
  /** Flushes what is buffered (best effort) and releases sockets and file descriptors. */
  close(): Promise<void>;
}

/** Counts dropped lines; `take()` hands over the count since the last report. */
export class LossCounter {
  total = 0;
  private sinceReport = 0;
  private reason: string | undefined;

  lose(reason: string): void {
    this.total++;
    this.sinceReport++;
    this.reason = reason;
  }

  /** The lines lost since the previous call and the latest reason, or undefined if none. */
  take(): { readonly lost: number; readonly reason: string } | undefined {
    if (this.sinceReport === 0) return undefined;
    const report = { lost: this.sinceReport, reason: this.reason ?? 'unknown' };
    this.sinceReport = 0;
    return report;
  }
}

/** A stdout/stderr buffer that holds more than this has a stuck reader: further lines are dropped. */
export const MAX_STREAM_BUFFER = 1024 * 1024;

/**
 * stdout or stderr, one plain line each (`tag[pid]: message`), for systemd's journal,
 * daemontools' log/run and development. Written asynchronously through pino's sonic-boom:
 * process.stdout is synchronous on pipes and would stall every session behind a stuck reader.
 */
export class StreamTransport implements Transport {
  readonly losses = new LossCounter();
  private readonly stream: ReturnType<typeof pino.destination>;
  private closed = false;
  private readonly flushAtExit = (): void => {
    try {
      this.stream.flushSync();
    } catch {
      // EAGAIN on a full pipe at exit: those lines are lost.
    }
  };

  constructor(
    private readonly prefix: string,
    fd: 1 | 2,
  ) {
    this.stream = pino.destination({ dest: fd, sync: false, minLength: 0, maxLength: MAX_STREAM_BUFFER });
    this.stream.on('drop', () => this.losses.lose(`${fd === 1 ? 'stdout' : 'stderr'} buffer full`));
    this.stream.on('error', (error: NodeJS.ErrnoException) => this.losses.lose(`${fd === 1 ? 'stdout' : 'stderr'}: ${error.code ?? error.message}`));
    process.on('exit', this.flushAtExit);
  }

  send(message: string, _level: number): void {
    if (this.closed) return this.losses.lose('log closed');
    this.stream.write(`${this.prefix}${message}\n`);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    process.off('exit', this.flushAtExit);
    return new Promise((resolve) => {
      // Both fds stay open (they are the process's): flush, do not end.
      this.stream.flush(() => resolve());
    });
  }
}

/** Lines handed to a function (tests read what an operator would read). */
export class SinkTransport implements Transport {
  readonly losses = new LossCounter();
  constructor(
    private readonly prefix: string,
    private readonly sink: (line: string, level: number) => void,
  ) {}

  send(message: string, level: number): void {
    try {
      this.sink(`${this.prefix}${message}`, level);
    } catch (error) {
      this.losses.lose(error instanceof Error ? error.message : String(error));
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
