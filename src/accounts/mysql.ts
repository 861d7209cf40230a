import { createPool, type Pool } from 'mysql2/promise';
import type { DatabaseConfig } from '../config/types';
import type { Accounts, LoginRequest, LoginResult } from './accounts';
import { maildirFromRows } from './maildir-path';
import { mysqlConnectionOptions } from './mysql-options';
import { bindParams, compileQuery, type CompiledQuery } from './query-format';

/**
 * Accounts in MySQL/MariaDB through a mysql2 pool. The query runs as a prepared statement
 * (`execute`), cached per connection by mysql2; the pool reconnects by itself when the
 * database comes back, so logins recover without a restart.
 */
export class MysqlAccounts implements Accounts {
  private readonly pool: Pool;
  private readonly query: CompiledQuery;
  private readonly queryTimeoutMs: number;

  constructor(db: DatabaseConfig, queryFormat: string, private readonly maildirRoot: string | undefined) {
    this.queryTimeoutMs = db.queryTimeoutMs;
    this.pool = createPool({
      ...mysqlConnectionOptions(db),
      connectionLimit: db.poolSize,
      waitForConnections: true,
      queueLimit: 0,
      enableKeepAlive: true,
      rowsAsArray: false,
    });
    this.query = compileQuery(queryFormat);
  }

  async authenticate(request: LoginRequest): Promise<LoginResult> {
    const [rows] = await this.pool.execute({ sql: this.query.sql, timeout: this.queryTimeoutMs }, bindParams(this.query, request));
    if (!Array.isArray(rows)) return { kind: 'refused', reason: 'query is not a SELECT' };
    return maildirFromRows(rows, this.maildirRoot);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
