import type { Wire } from '../../src/pop3/wire';

/** A Wire over memory: what the session writes is kept as bytes; no socket, no TLS. */
export class MemoryWire implements Wire {
  private readonly chunks: Buffer[] = [];
  gone = false;
  ended = false;
  paused = false;
  readonly tls: string | undefined = undefined;
  /** While set, every write waits for drain() as a socket does when the client stops reading. */
  hold = false;
  /**
   * While set, writes return at once but the buffers stay referenced, not copied, until flush():
   * a socket whose write was under its high-water mark and that the kernel has not taken yet.
   */
  lagging = false;
  private waiting: Array<() => void> = [];
  private inFlight: Buffer[] = [];

  /** Octets written and not yet taken (lagging writes). */
  get buffered(): number {
    return this.inFlight.reduce((sum, b) => sum + b.length, 0);
  }

  /** The peer takes the lagging writes: their bytes as they are now. */
  flush(): void {
    this.chunks.push(...this.inFlight.map((b) => Buffer.from(b)));
    this.inFlight = [];
  }

  write(data: string | readonly Buffer[]): Promise<void> | void {
    if (this.gone) return;
    if (this.corked > 0) this.corkedWrites++;
    if (this.lagging || this.inFlight.length > 0) {
      this.inFlight.push(...(typeof data === 'string' ? [Buffer.from(data, 'latin1')] : data));
      return;
    }
    if (typeof data === 'string') this.chunks.push(Buffer.from(data, 'latin1'));
    else this.chunks.push(...data.map((b) => Buffer.from(b)));
    if (!this.hold) return;
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Writes waiting for the peer. */
  get stalled(): number {
    return this.waiting.length;
  }

  /** The peer took everything: writes waiting go on. */
  drain(): void {
    for (const resume of this.waiting.splice(0)) resume();
  }

  /** cork() calls not yet undone; the bytes stay readable meanwhile (tests look at the order). */
  corked = 0;
  /** Writes made while corked, and uncork() calls that let them go. */
  corkedWrites = 0;
  uncorks = 0;

  cork(): void {
    this.corked++;
  }

  uncork(): void {
    if (this.corked === 0) throw new Error('uncork() without cork()');
    this.corked--;
    this.uncorks++;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  end(): void {
    this.ended = true;
  }

  destroy(): void {
    this.gone = true;
    this.drain(); // a closed socket settles its waits too
  }

  startTls(): Promise<boolean> {
    return Promise.resolve(false);
  }

  /** Everything written so far. */
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  get text(): string {
    return this.bytes.toString('latin1');
  }

  /** Takes what was written so far (the next call sees only what comes after). */
  take(): string {
    const text = this.text;
    this.chunks.length = 0;
    return text;
  }

  /** Resolves once the output matches, letting the session's pending work run (no sleeping). */
  async until(pattern: RegExp, turns = 20_000): Promise<string> {
    for (let i = 0; i < turns; i++) {
      if (pattern.test(this.text)) return this.text;
      await new Promise((resolve) => setImmediate(resolve));
    }
    throw new Error(`output never matched ${pattern}:\n${this.text}`);
  }
}
