// When each account last logged in, in a SharedArrayBuffer every worker thread of the engine
// maps (RFC 2449 LOGIN-DELAY without a last_login column): two 64-bit arrays, a key (a hash of
// the account name as the database compares it) and a time in ms. Claims are compare-and-swap,
// so two threads logging the same account in at once cannot both pass the delay. Lossy like
// the other shared tables: an account whose probe run is full of recent logins is not tracked
// (the login is let through), and the memory ends with the engine.
import { createHash } from 'node:crypto';
import { foldLogin } from '../accounts/fold-login';
import type { LoginClaim, LoginHistory } from '../pop3/commands/context';

/** 65,536 accounts (1 MiB). */
const SLOTS = 65_536;
const PROBES = 8;
/** A login older than this may give its slot to another account: longer delays need `last_login` in the database. */
export const REMEMBER_MS = 24 * 3600 * 1000;

export class LastLoginTable implements LoginHistory {
  private readonly keys: BigInt64Array;
  private readonly times: BigInt64Array;
  private readonly slots: number;

  constructor(buffer: SharedArrayBuffer) {
    this.slots = buffer.byteLength / 16;
    this.keys = new BigInt64Array(buffer, 0, this.slots);
    this.times = new BigInt64Array(buffer, this.slots * 8, this.slots);
  }

  static buffer(slots = SLOTS): SharedArrayBuffer {
    return new SharedArrayBuffer(slots * 16);
  }

  claim(account: string, nowMs: number, delayMs: number): LoginClaim {
    const now = BigInt(Math.floor(nowMs));
    const key = keyOf(account);
    const slot = this.find(key, now);
    if (slot === undefined) return { kind: 'claimed', undo: () => undefined };
    for (;;) {
      const previous = Atomics.load(this.times, slot);
      if (delayMs > 0 && previous !== 0n && now - previous < BigInt(delayMs)) return { kind: 'too-soon', previousMs: Number(previous) };
      if (Atomics.compareExchange(this.times, slot, previous, now) !== previous) continue; // another thread's login came first: look again
      return {
        kind: 'claimed',
        undo: () => {
          if (Atomics.load(this.keys, slot) === key) Atomics.compareExchange(this.times, slot, now, previous);
        },
      };
    }
  }

  private find(key: bigint, now: bigint): number | undefined {
    const start = Number(BigInt.asUintN(32, key) % BigInt(this.slots));
    for (let i = 0; i < PROBES; i++) {
      const slot = (start + i) % this.slots;
      const seen = Atomics.load(this.keys, slot);
      if (seen === key) return slot;
      const forgotten = seen === 0n || now - Atomics.load(this.times, slot) > BigInt(REMEMBER_MS);
      if (forgotten && Atomics.compareExchange(this.keys, slot, seen, key) === seen) {
        Atomics.store(this.times, slot, 0n);
        return slot;
      }
    }
    return undefined;
  }
}

/** 64 bits of SHA-256 of the folded name (collation-equal names are one account); never 0. */
function keyOf(account: string): bigint {
  const key = createHash('sha256').update(foldLogin(account)).digest().readBigInt64LE(0);
  return key === 0n ? 1n : key;
}
