// What an accounts store reports for metrics, as calls on a small interface: accounts/ knows
// nothing of Prometheus (server/metrics/ implements it). NO_ACCOUNTS_PROBE does nothing.

/** A store's connection pool as metrics see it: the store keeps `inFlight` up to date. */
export interface PoolUse {
  /** Connections the pool may open. */
  readonly size: number;
  /** Queries sent and not yet answered: those beyond `size` wait for a connection. */
  inFlight: number;
}

export interface AccountsProbe {
  /** A query answered (or failed: an error, a timeout, the database down) after `seconds`. */
  query(kind: 'login' | 'rehash', seconds: number, failed: boolean): void;
  /** Verifying a login's stored password hashes took `seconds` (not called when the SQL checked it). */
  hashed(seconds: number): void;
  /** A pool to watch until the returned function is called (the store closed). */
  watchPool(use: PoolUse): () => void;
}

const nothing = (): void => undefined;

export const NO_ACCOUNTS_PROBE: AccountsProbe = { query: nothing, hashed: nothing, watchPool: () => nothing };

/** Runs a query, keeping `use.inFlight` and the probe told. */
export async function probed<T>(probe: AccountsProbe, use: PoolUse | undefined, kind: 'login' | 'rehash', run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  if (use !== undefined) use.inFlight++;
  let failed = true;
  try {
    const result = await run();
    failed = false;
    return result;
  } finally {
    if (use !== undefined) use.inFlight--;
    probe.query(kind, (performance.now() - started) / 1000, failed);
  }
}
