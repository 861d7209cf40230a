// Node's default for SIGHUP, SIGTERM and SIGINT is to die (and SIGUSR1 starts the inspector).
// A `systemctl reload` right after start must not kill r2d2, so the supervisor and the engine
// take these signals from their first line on, and keep those that arrive before the code that
// acts on them is ready: they are replayed, in order, when it attaches.
export const LATCHED_SIGNALS = ['SIGHUP', 'SIGTERM', 'SIGINT', 'SIGUSR1'] as const;
export type LatchedSignal = (typeof LATCHED_SIGNALS)[number];

export type SignalHandler = (signal: LatchedSignal) => void;

export class SignalLatch {
  private readonly pending: LatchedSignal[] = [];
  private handler: SignalHandler | undefined;

  constructor() {
    for (const signal of LATCHED_SIGNALS) process.on(signal, () => this.deliver(signal));
  }

  /** From now on signals go to `handler`; those that came before go first (each kind once). */
  attach(handler: SignalHandler): void {
    this.handler = handler;
    for (const signal of this.pending.splice(0)) handler(signal);
  }

  private deliver(signal: LatchedSignal): void {
    if (this.handler !== undefined) this.handler(signal);
    else if (!this.pending.includes(signal)) this.pending.push(signal);
  }
}
