import type { Logger } from 'pino';
import type { Config } from '../config/types';
import type { Accounts, LoginRequest, LoginResult } from './accounts';
import { LoginRules } from './login-rules';
import { openMysqlPool, type MysqlPool } from './mysql-pool';
import { bindParams } from './query-format';

/**
 * Accounts in MySQL/MariaDB through mysql2 pools (one per server of `hosts`, used in order:
 * mysql-pool.ts). The query runs as a prepared statement (`execute`), cached per connection by
 * mysql2; the pool reconnects by itself when the database comes back, so logins recover without
 * a restart. A login whose connection broke is asked once more (of the next server, if any).
 */
export class MysqlAccounts implements Accounts {
  private readonly pool: MysqlPool;
  private readonly rules: LoginRules;
  private readonly queryTimeoutMs: number;

  constructor(config: Config, log?: Logger) {
    const db = config.accountsDatabase;
    this.queryTimeoutMs = db.queryTimeoutMs;
    this.pool = openMysqlPool(db, { connectionLimit: db.poolSize, log });
    this.rules = new LoginRules(config, (sql, params) => this.update(sql, params), log);
  }

  async authenticate(request: LoginRequest): Promise<LoginResult> {
    const query = this.rules.query;
    const rows = await this.pool.run({ sql: query.sql, params: bindParams(query, request), timeoutMs: this.queryTimeoutMs, retry: true });
    if (!Array.isArray(rows)) return { kind: 'refused', reason: 'query is not a SELECT' };
    return this.rules.resolve(rows, request);
  }

  async close(): Promise<void> {
    await this.rules.close();
    await this.pool.end();
  }

  private async update(sql: string, params: readonly string[]): Promise<number> {
    const result = await this.pool.run({ sql, params, timeoutMs: this.queryTimeoutMs, retry: false });
    return 'affectedRows' in result ? result.affectedRows : 0;
  }
}
