// Lossy hash tables in SharedArrayBuffers, so limits hold across worker threads without
// messages or locks: connections per client address, and login-failure penalties per address
// and per login name. A key whose probe run is full is simply not tracked (fail open): the
// tables bound memory, they never refuse a client because of a collision.

const PROBES = 8;

/** FNV-1a, never 0 (0 marks an empty slot). */
export function keyHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h === 0 ? 1 : h;
}

/**
 * Per-key counts with one column per worker, so a worker that dies can have its share wiped:
 * `[hash, count@worker0, ..., count@workerN-1]` per slot.
 */
export class PerWorkerCounts {
  private readonly cells: Int32Array;
  private readonly width: number;
  private readonly slots: number;

  constructor(
    buffer: SharedArrayBuffer,
    private readonly workers: number,
  ) {
    this.cells = new Int32Array(buffer);
    this.width = workers + 1;
    this.slots = Math.floor(this.cells.length / this.width);
  }

  static buffer(slots: number, workers: number): SharedArrayBuffer {
    return new SharedArrayBuffer(slots * (workers + 1) * Int32Array.BYTES_PER_ELEMENT);
  }

  /**
   * Adds one for `worker` if the key's total stays within `max`; true when admitted. Add first,
   * then check (and take back): two threads racing for the last place can both be refused, never
   * both admitted -- a check-then-add would let them both in.
   */
  tryAdd(key: string, worker: number, max: number): boolean {
    const base = this.find(keyHash(key), true);
    if (base === undefined) return true;
    Atomics.add(this.cells, base + 1 + worker, 1);
    if (this.total(base) <= max) return true;
    Atomics.sub(this.cells, base + 1 + worker, 1);
    return false;
  }

  remove(key: string, worker: number): void {
    const base = this.find(keyHash(key), false);
    if (base !== undefined && Atomics.load(this.cells, base + 1 + worker) > 0) Atomics.sub(this.cells, base + 1 + worker, 1);
  }

  count(key: string): number {
    const base = this.find(keyHash(key), false);
    return base === undefined ? 0 : this.total(base);
  }

  /** A worker died: its connections are gone. */
  clearWorker(worker: number): void {
    for (let s = 0; s < this.slots; s++) Atomics.store(this.cells, s * this.width + 1 + worker, 0);
  }

  private total(base: number): number {
    let sum = 0;
    for (let w = 0; w < this.workers; w++) sum += Atomics.load(this.cells, base + 1 + w);
    return sum;
  }

  private find(hash: number, claim: boolean): number | undefined {
    const start = (hash >>> 0) % this.slots;
    for (let i = 0; i < PROBES; i++) {
      const base = ((start + i) % this.slots) * this.width;
      const seen = Atomics.load(this.cells, base);
      if (seen === hash) return base;
      // A slot whose counts are all zero may be taken over by a new key.
      if (claim && (seen === 0 || this.total(base) === 0)) {
        if (Atomics.compareExchange(this.cells, base, seen, hash) === seen) return base;
      }
    }
    return undefined;
  }
}

/**
 * Counts that fade: `[hash, count, lastSeenSeconds]` per slot; a count untouched for `window`
 * seconds starts again from zero. For login-failure penalties.
 */
export class FadingCounts {
  private readonly cells: Int32Array;
  private readonly slots: number;

  constructor(
    buffer: SharedArrayBuffer,
    private readonly windowSeconds: number,
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {
    this.cells = new Int32Array(buffer);
    this.slots = Math.floor(this.cells.length / 3);
  }

  static buffer(slots: number): SharedArrayBuffer {
    return new SharedArrayBuffer(slots * 3 * Int32Array.BYTES_PER_ELEMENT);
  }

  get(key: string): number {
    const base = this.find(keyHash(key), false);
    if (base === undefined || this.expired(base)) return 0;
    return Atomics.load(this.cells, base + 1);
  }

  increment(key: string): number {
    const base = this.find(keyHash(key), true);
    if (base === undefined) return 0;
    if (this.expired(base)) Atomics.store(this.cells, base + 1, 0);
    Atomics.store(this.cells, base + 2, this.now());
    return Atomics.add(this.cells, base + 1, 1) + 1;
  }

  reset(key: string): void {
    const base = this.find(keyHash(key), false);
    if (base !== undefined) Atomics.store(this.cells, base + 1, 0);
  }

  private expired(base: number): boolean {
    return this.now() - Atomics.load(this.cells, base + 2) > this.windowSeconds;
  }

  private find(hash: number, claim: boolean): number | undefined {
    const start = (hash >>> 0) % this.slots;
    for (let i = 0; i < PROBES; i++) {
      const base = ((start + i) % this.slots) * 3;
      const seen = Atomics.load(this.cells, base);
      if (seen === hash) return base;
      if (claim && (seen === 0 || this.expired(base) || Atomics.load(this.cells, base + 1) === 0)) {
        if (Atomics.compareExchange(this.cells, base, seen, hash) === seen) {
          Atomics.store(this.cells, base + 1, 0);
          return base;
        }
      }
    }
    return undefined;
  }
}
