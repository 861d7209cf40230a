// Buffers for RETR and TOP replies, shared by the connections of one thread (a worker thread
// loads its own copy of this module, so no two threads ever share one). A reply takes what it
// needs and gives it back once the wire holds it no more (reply-buffers.ts decides when), so a
// thread allocates -- and the kernel zeroes fresh pages for -- only when more replies are in flight
// at once than ever before. Measured before it (issue 19): a retrieve session's 50 RETRs each
// allocated a new output buffer (sizes grew message by message, so the one kept per connection
// never fitted), and page zeroing was a fifth of the engine's CPU.

/** The smallest size class: a message of some 30 KB encodes into it, with its head. */
const MIN_CLASS_OCTETS = 64 * 1024;
/** Needs above the largest class (a streamed chunk of 256 KiB, encoded) are allocated, never pooled. */
const MAX_CLASS_OCTETS = 1024 * 1024;
/** At most this many octets wait in a pool; what would pass it goes to the garbage collector. */
const MAX_FREE_OCTETS = 8 * 1024 * 1024;

/** The size class a need of `octets` takes (a power of two), or undefined above the largest. */
export function sizeClass(octets: number): number | undefined {
  if (octets > MAX_CLASS_OCTETS) return undefined;
  let size = MIN_CLASS_OCTETS;
  while (size < octets) size *= 2;
  return size;
}

export class BufferPool {
  private readonly free = new Map<number, Buffer[]>();
  private freeOctets = 0;

  constructor(private readonly maxFreeOctets = MAX_FREE_OCTETS) {}

  /** Octets waiting in the pool. */
  get idleOctets(): number {
    return this.freeOctets;
  }

  /** A buffer of at least `octets`, its contents undefined; the caller owns it until give(). */
  take(octets: number): Buffer {
    const size = sizeClass(octets);
    if (size === undefined) return Buffer.allocUnsafe(octets);
    const kept = this.free.get(size)?.pop();
    if (kept === undefined) return Buffer.allocUnsafeSlow(size);
    this.freeOctets -= size;
    return kept;
  }

  /**
   * Hands back a buffer that take() returned and that nothing references any more (no write in
   * flight): giving one twice would let two replies write into it.
   */
  give(buffer: Buffer): void {
    const size = buffer.length;
    if (sizeClass(size) !== size || buffer.byteOffset !== 0 || buffer.buffer.byteLength !== size) return;
    if (this.freeOctets + size > this.maxFreeOctets) return;
    const list = this.free.get(size);
    if (list === undefined) this.free.set(size, [buffer]);
    else list.push(buffer);
    this.freeOctets += size;
  }
}

/** This thread's pool. */
export const threadBufferPool = new BufferPool();
