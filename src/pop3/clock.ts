// Time as the protocol sees it, injected: the autologout timers, the failed-login delay, and the
// wall-clock time that LOGIN-DELAY and EXPIRE compare with (RFC 2449 §6.5, §6.7).
// Tests pass a clock they advance by hand (test/helpers/manual-clock.ts), so no test sleeps.

export interface Timer {
  /** Starts the wait again from now (activity). */
  refresh(): void;
  cancel(): void;
}

export interface Clock {
  /** Calls `fire` once `ms` have passed, unless refreshed or cancelled first. */
  timer(ms: number, fire: () => void): Timer;
  /** Resolves after `ms`. */
  sleep(ms: number): Promise<void>;
  /** Milliseconds since the epoch, as Date.now(). */
  now(): number;
}

export const SYSTEM_CLOCK: Clock = {
  timer(ms, fire) {
    const handle = setTimeout(fire, ms);
    return { refresh: () => void handle.refresh(), cancel: () => clearTimeout(handle) };
  },
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => Date.now(),
};
