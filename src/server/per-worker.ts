// Each worker thread has its own database pool: the configured pool_size is shared out among them.
import type { Config } from '../config/types';

/** One worker's share of the accounts database's pool_size (at least one connection). */
export function poolPerWorker(config: Config): number {
  return Math.max(1, Math.ceil(config.accountsDatabase.poolSize / config.threads));
}

/** The Config as one worker uses it: its share of the pool. */
export function perWorker(config: Config): Config {
  return { ...config, accountsDatabase: { ...config.accountsDatabase, poolSize: poolPerWorker(config) } };
}
