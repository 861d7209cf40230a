
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
 * daemontools' log/run and development. On a pipe or socket Node writes what the kernel takes
 * at once and queues the rest in memory, never blocking; this bounds that queue: past
 * MAX_STREAM_BUFFER (a reader that stopped reading) lines are dropped and counted.
 * Files are written synchronously by Node, as they always are.
 */
export class StreamTransport implements Transport {
  readonly losses = new LossCounter();
  private closed = false;
  private readonly name: string;
  private corked = false;

  /**
   * `batched`: the lines of one event-loop turn are held (cork) and handed over together; for a
   * worker thread's process.stdout/stderr, where each write is a message to the main thread.
   */
  constructor(
    private readonly prefix: string,
    private readonly stream: NodeJS.WritableStream & { readonly writableLength: number; cork(): void; uncork(): void } = process.stdout,
    private readonly batched = false,
  ) {
    this.name = stream === process.stderr ? 'stderr' : 'stdout';
    stream.on('error', this.onError);
    if (batched) process.on('exit', this.flush); // best effort: a thread's last turn
  }

  private readonly onError = (error: NodeJS.ErrnoException): void => this.losses.lose(`${this.name}: ${error.code ?? error.message}`);

  send(message: string, _level: number): void {
    if (this.closed) return this.losses.lose('log closed');
    if (this.stream.writableLength > MAX_STREAM_BUFFER) return this.losses.lose(`${this.name} not read (buffer full)`);
    try {
      if (this.batched && !this.corked) {
        this.corked = true;
        this.stream.cork();
        setImmediate(this.flush);
      }
      this.stream.write(`${this.prefix}${message}\n`);
    } catch (error) {
      this.losses.lose(`${this.name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private readonly flush = (): void => {
    if (!this.corked) return;
    this.corked = false;
    this.stream.uncork();
  };

  close(): Promise<void> {
    // The process's own stdout/stderr stay open: queued lines keep going out.
    this.flush();
    this.closed = true;
    process.off('exit', this.flush);
    this.stream.off('error', this.onError);
    return Promise.resolve();
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
