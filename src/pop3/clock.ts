// Time as the protocol sees it, injected: the autologout timers and the failed-login delay.
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
}

export const SYSTEM_CLOCK: Clock = {
  timer(ms, fire) {
    const handle = setTimeout(fire, ms);
    return { refresh: () => void handle.refresh(), cancel: () => clearTimeout(handle) };
  },
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};
