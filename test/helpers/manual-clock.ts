import type { Clock, Timer } from '../../src/pop3/clock';

interface Pending {
  due: number;
  fire: () => void;
  active: boolean;
}

/**
 * A clock that moves only when the test says so: timers and sleeps fire on advance(). Its now()
 * starts at the wall-clock time it was made (file times compare with it) and moves with advance().
 */
export class ManualClock implements Clock {
  private nowMs = 0;
  private readonly pending: Pending[] = [];

  constructor(private readonly startMs: number = Date.now()) {}

  now(): number {
    return this.startMs + this.nowMs;
  }

  timer(ms: number, fire: () => void): Timer {
    const entry: Pending = { due: this.nowMs + ms, fire, active: true };
    this.pending.push(entry);
    return {
      refresh: () => {
        entry.due = this.nowMs + ms;
      },
      cancel: () => {
        entry.active = false;
      },
    };
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.timer(ms, resolve));
  }

  /** Timers and sleeps that have not fired yet. */
  get waiting(): number {
    return this.pending.filter((p) => p.active).length;
  }

  /** Moves time on by `ms`, firing what falls due, in order. */
  advance(ms: number): void {
    const until = this.nowMs + ms;
    for (;;) {
      const next = this.pending.filter((p) => p.active && p.due <= until).sort((a, b) => a.due - b.due)[0];
      if (next === undefined) break;
      this.nowMs = next.due;
      next.active = false;
      next.fire();
    }
    this.nowMs = until;
  }
}
