import type { LockLiveness } from '../maildrop/lock';
import { LastLoginTable } from './last-logins';
import { FadingCounts, PerWorkerCounts } from './shared-tables';

/**
 * State every worker thread shares, in SharedArrayBuffers (Atomics, no locks, no messages):
 * the session counter ([N] in the log), connections per worker (max_connections holds across
 * workers), and which worker threads are alive (a maildrop lock left by a dead worker is stale).
 */
export interface SharedBuffers {
  readonly counters: SharedArrayBuffer;
  readonly threads: SharedArrayBuffer;
  /** PerWorkerCounts: connections per client address. */
  readonly addresses: SharedArrayBuffer;
  /** FadingCounts: recent login failures per address and per login name. */
  readonly penalties: SharedArrayBuffer;
  /** LastLoginTable: each account's last login (LOGIN-DELAY). */
  readonly lastLogins: SharedArrayBuffer;
}

/** Slots of the address and penalty tables: far more than the addresses seen at once. */
const TABLE_SLOTS = 16384;
/** A login failure is forgotten after 15 minutes without another. */
export const PENALTY_WINDOW_SECONDS = 900;

const SESSION_COUNTER = 0;
const FIRST_SLOT = 1;

export function createSharedBuffers(slots: number): SharedBuffers {
  return {
    counters: new SharedArrayBuffer((FIRST_SLOT + slots) * Int32Array.BYTES_PER_ELEMENT),
    threads: new SharedArrayBuffer(slots * Int32Array.BYTES_PER_ELEMENT),
    addresses: PerWorkerCounts.buffer(TABLE_SLOTS, slots),
    penalties: FadingCounts.buffer(TABLE_SLOTS),
    lastLogins: LastLoginTable.buffer(),
  };
}

export class SharedCounters {
  private readonly cells: Int32Array;

  constructor(buffers: SharedBuffers) {
    this.cells = new Int32Array(buffers.counters);
  }

  get slots(): number {
    return this.cells.length - FIRST_SLOT;
  }

  nextSession(): number {
    return Atomics.add(this.cells, SESSION_COUNTER, 1) + 1;
  }

  /** Takes one connection for `slot` if the server-wide total stays within `max` (add, then check: see PerWorkerCounts.tryAdd). */
  tryAcquire(slot: number, max: number): boolean {
    Atomics.add(this.cells, FIRST_SLOT + slot, 1);
    if (this.total() <= max) return true;
    Atomics.sub(this.cells, FIRST_SLOT + slot, 1);
    return false;
  }

  release(slot: number): void {
    Atomics.sub(this.cells, FIRST_SLOT + slot, 1);
  }

  /** A dead worker's connections are gone with it. */
  reset(slot: number): void {
    Atomics.store(this.cells, FIRST_SLOT + slot, 0);
  }

  total(): number {
    let sum = 0;
    for (let i = FIRST_SLOT; i < this.cells.length; i++) sum += Atomics.load(this.cells, i);
    return sum;
  }

  perWorker(): number[] {
    return Array.from({ length: this.slots }, (_, slot) => Atomics.load(this.cells, FIRST_SLOT + slot));
  }
}

/** Live worker threadIds by slot; 0 = no live worker there. */
export class ThreadTable implements LockLiveness {
  private readonly cells: Int32Array;

  constructor(
    buffers: SharedBuffers,
    private readonly pid: number = process.pid,
  ) {
    this.cells = new Int32Array(buffers.threads);
  }

  markAlive(slot: number, threadId: number): void {
    Atomics.store(this.cells, slot, threadId);
  }

  markDead(slot: number): void {
    Atomics.store(this.cells, slot, 0);
  }

  isThreadAlive(pid: number, threadId: number): boolean {
    if (pid !== this.pid) return true; // another process: its own liveness is judged by pid
    if (threadId === 0) return true; // the engine's main thread holds no sessions, but do not guess
    for (let i = 0; i < this.cells.length; i++) if (Atomics.load(this.cells, i) === threadId) return true;
    return false;
  }
}
