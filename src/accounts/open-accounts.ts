import type { Logger } from 'pino';
import type { Config } from '../config/types';
import type { Accounts } from './accounts';
import { MysqlAccounts } from './mysql';
import type { AccountsProbe } from './probe';
import { SqliteAccounts } from './sqlite';

/**
 * `log`: where the store reports what happens after a login returned (a background rehash);
 * `probe`: where it reports its queries, hash checks and pool for metrics.
 */
export function openAccounts(config: Config, log?: Logger, probe?: AccountsProbe): Accounts {
  return config.accountsDatabase.driver === 'sqlite' ? new SqliteAccounts(config, log, probe) : new MysqlAccounts(config, log, probe);
}
