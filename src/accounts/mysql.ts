import type { Logger } from 'pino';
import { createPool, type Pool } from 'mysql2/promise';
import type { Config } from '../config/types';
import type { Accounts, LoginRequest, LoginResult } from './accounts';
import { LoginRules } from './login-rules';
import { mysqlConnectionOptions } from './mysql-options';
import { bindParams } from './query-format';

/**
 * Accounts in MySQL/MariaDB through a mysql2 pool. The query runs as a prepared statement
 * (`execute`), cached per connection by mysql2; the pool reconnects by itself when the
 * database comes back, so logins recover without a restart.
 */
export class MysqlAccounts implements Accounts {
  private readonly pool: Pool;
  private readonly rules: LoginRules;
  private readonly queryTimeoutMs: number;

  constructor(config: Config, log?: Logger) {
    const db = config.accountsDatabase;
    this.queryTimeoutMs = db.queryTimeoutMs;
    this.pool = createPool({
      ...mysqlConnectionOptions(db),
      connectionLimit: db.poolSize,
      waitForConnections: true,
      queueLimit: 0,
      enableKeepAlive: true,
      rowsAsArray: false,
      supportBigNumbers: true,
    });
    this.rules = new LoginRules(config, (sql, params) => this.update(sql, params), log);
  }

  async authenticate(request: LoginRequest): Promise<LoginResult> {
    const query = this.rules.query;
    const [rows] = await this.pool.execute({ sql: query.sql, timeout: this.queryTimeoutMs }, bindParams(query, request));
    if (!Array.isArray(rows)) return { kind: 'refused', reason: 'query is not a SELECT' };
    return this.rules.resolve(rows, request);
  }

  recordLogin(request: LoginRequest): Promise<void> {
    return this.rules.recordLogin(request);
  }

  async close(): Promise<void> {
    await this.rules.close();
    await this.pool.end();
  }

  private async update(sql: string, params: readonly string[]): Promise<number> {
    const [result] = await this.pool.execute({ sql, timeout: this.queryTimeoutMs }, [...params]);
    return 'affectedRows' in result ? result.affectedRows : 0;
  }
}
