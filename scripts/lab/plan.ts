// How big the lab is: the full run (`npm run lab`) or the short one CI runs
// (test/integration/lab.test.ts), and the moments of the kill and of the database stop.

export interface LabOptions {
  /** The short form: fewer users, a shorter load, a shorter lease. */
  readonly short?: boolean;
  /** Keep the temporary folder (logs, configs, maildirs) for a look afterwards. */
  readonly keep?: boolean;
  readonly seconds?: number;
  readonly leaseSeconds?: number;
}

export interface LabPlan {
  readonly readers: number;
  readonly readerMessages: number;
  readonly readerClients: number;
  readonly readerThreads: number;
  readonly deleters: number;
  readonly holdMs: number;
  readonly deliverEveryMs: number;
  readonly seconds: number;
  readonly leaseSeconds: number;
  /** The kill comes this long into the load, or up to KILL_WAIT_SECONDS later (when lab-h2 holds a maildrop). */
  readonly killAfterSeconds: number;
  /** Seconds after the kill the database server is stopped: once the takeover is over. */
  readonly dbStopAfterKillSeconds: number;
}

/** The kill waits at most this long for lab-h2 to hold a maildrop (a session between login and QUIT). */
export const KILL_WAIT_SECONDS = 5;

export function labPlan(options: LabOptions): LabPlan {
  const short = options.short === true;
  const leaseSeconds = options.leaseSeconds ?? (short ? 5 : 10);
  const killAfterSeconds = short ? 6 : 15;
  const dbStopAfterKillSeconds = leaseSeconds + 3;
  // The kill, then the takeover (one lease), then the database stop, then time to see both through.
  const seconds = Math.max(options.seconds ?? (short ? 28 : 60), killAfterSeconds + KILL_WAIT_SECONDS + dbStopAfterKillSeconds + 8);
  return {
    readers: short ? 8 : 40,
    readerMessages: 3,
    readerClients: short ? 4 : 20,
    readerThreads: short ? 1 : 2,
    deleters: short ? 8 : 30,
    // Deleting sessions stay open a while: the killed host then surely holds some maildrops.
    holdMs: short ? 1000 : 1500,
    deliverEveryMs: short ? 100 : 40,
    seconds,
    leaseSeconds,
    killAfterSeconds,
    dbStopAfterKillSeconds,
  };
}
