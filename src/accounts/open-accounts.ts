import type { Config } from '../config/types';
import type { Accounts } from './accounts';
import { MysqlAccounts } from './mysql';
import { SqliteAccounts } from './sqlite';

export function openAccounts(config: Config): Accounts {
  const db = config.accountsDatabase;
  return db.driver === 'sqlite'
    ? new SqliteAccounts(db, config.maildropQuery, config.maildirRoot)
    : new MysqlAccounts(db, config.maildropQuery, config.maildirRoot);
}
