// A connection's buffers for RETR and TOP: one output buffer the encoder writes into, and two
// read buffers, so that a chunk sent as it is (wire-form.ts) stays untouched while the next one is
// read. They come from the thread's pool (buffer-pool.ts) and go back to it when the reply is over,
// so a streamed message allocates nothing per chunk, a session nothing per message, and an idle
// session holds none. A buffer handed to the wire may still be referenced by a write in flight
// (the kernel took only part of it): a buffer is reused or given back only while the wire has
// nothing in flight; otherwise it waits for the next reply, or goes to the garbage collector.
import { CHUNK_OCTETS } from '../maildrop/message-file';
import { threadBufferPool, type BufferPool } from './buffer-pool';

export class ReplyBuffers {
  private output: Buffer | undefined;
  private readonly reads: Array<Buffer | undefined> = [undefined, undefined];

  /**
   * @param wireIdle true when every write handed to the wire has completed.
   * @param pool where buffers come from and go back to; undefined: always fresh ones.
   */
  constructor(
    private readonly wireIdle: () => boolean,
    private readonly pool: BufferPool | undefined = threadBufferPool,
  ) {}

  /** For a caller with no connection (tests, benches): nothing is ever reused. */
  static unshared(): ReplyBuffers {
    return new ReplyBuffers(() => false, undefined);
  }

  /** A buffer of at least `octets` to encode into; free until it is handed to the wire. */
  forOutput(octets: number): Buffer {
    const kept = this.output;
    if (kept !== undefined && kept.length >= octets && this.wireIdle()) return kept;
    this.output = this.replace(kept, octets);
    return this.output;
  }

  /** A buffer of at least `octets` to read into: never `sending` (a chunk about to be sent as it is). */
  forReading(sending: Buffer | undefined, octets = CHUNK_OCTETS): Buffer {
    const first = this.reads[0];
    const slot = first !== undefined && sending !== undefined && first.buffer === sending.buffer ? 1 : 0;
    const kept = this.reads[slot];
    if (kept !== undefined && kept.length >= octets && this.wireIdle()) return kept;
    const fresh = this.replace(kept, Math.max(octets, CHUNK_OCTETS));
    this.reads[slot] = fresh;
    return fresh;
  }

  /** The reply is over: its buffers go back to the pool, or wait for the next reply while the wire holds one. */
  release(): void {
    if (!this.wireIdle()) return;
    this.giveBack();
  }

  /** The session is over: back to the pool when the wire is done with them, else to the garbage collector. */
  retire(): void {
    if (this.wireIdle()) this.giveBack();
    else this.forget();
  }

  /** `old` makes way for a buffer of `octets`: back to the pool if nothing sends it. */
  private replace(old: Buffer | undefined, octets: number): Buffer {
    if (old !== undefined && this.wireIdle()) this.pool?.give(old);
    return this.pool?.take(octets) ?? Buffer.allocUnsafe(octets);
  }

  private giveBack(): void {
    if (this.output !== undefined) this.pool?.give(this.output);
    for (const buffer of this.reads) if (buffer !== undefined) this.pool?.give(buffer);
    this.forget();
  }

  private forget(): void {
    this.output = undefined;
    this.reads[0] = this.reads[1] = undefined;
  }
}
