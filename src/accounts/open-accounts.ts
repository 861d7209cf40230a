import type { Logger } from 'pino';
import type { Config } from '../config/types';
import type { Accounts } from './accounts';
import { MysqlAccounts } from './mysql';
import { SqliteAccounts } from './sqlite';

/** `log`: where the store reports what happens after a login returned (a background rehash). */
export function openAccounts(config: Config, log?: Logger): Accounts {
  return config.accountsDatabase.driver === 'sqlite' ? new SqliteAccounts(config, log) : new MysqlAccounts(config, log);
}
