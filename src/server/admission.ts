import type { PerWorkerCounts } from './shared-tables';

/** max_connections across every worker; a local count by default. */
export interface ConnectionBudget {
  tryAcquire(max: number): boolean;
  release(): void;
}

export function localBudget(): ConnectionBudget {
  let held = 0;
  return {
    tryAcquire(max) {
      if (held >= max) return false;
      held++;
      return true;
    },
    release() {
      held--;
    },
  };
}

/** Both places a connection holds: given back once, when its session object is gone. */
export interface Slot {
  release(): void;
}

export type Admission = { readonly kind: 'admitted'; readonly slot: Slot } | { readonly kind: 'refused'; readonly limit: string };

/**
 * The per-address and server-wide connection limits. A connection holds its places until its
 * session has ended -- its failed-login delay included -- not until its socket closes: a client
 * that resets the connection mid-delay must not get its slot back early (that made 1,500
 * guesses in 11 s from one address).
 */
export class ConnectionLimits {
  constructor(
    private readonly perAddress: PerWorkerCounts,
    private readonly budget: ConnectionBudget,
    private readonly worker: number,
  ) {}

  admit(address: string, maxPerAddress: number, maxConnections: number): Admission {
    if (!this.perAddress.tryAdd(address, this.worker, maxPerAddress)) return { kind: 'refused', limit: 'max_connections_per_address' };
    if (!this.budget.tryAcquire(maxConnections)) {
      this.perAddress.remove(address, this.worker);
      return { kind: 'refused', limit: 'max_connections' };
    }
    let held = true;
    return {
      kind: 'admitted',
      slot: {
        release: () => {
          if (!held) return;
          held = false;
          this.budget.release();
          this.perAddress.remove(address, this.worker);
        },
      },
    };
  }
}
