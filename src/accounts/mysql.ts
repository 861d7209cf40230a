import { createPool, type Pool, type PoolOptions } from 'mysql2/promise';
import type { DatabaseConfig } from '../config/types';
import type { Accounts, LoginRequest, LoginResult } from './accounts';
import { maildirFromRows } from './maildir-path';
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
    const options: PoolOptions = {
      user: db.user,
      password: db.password,
      database: db.database.length > 0 ? db.database : undefined,
      connectionLimit: db.poolSize,
      connectTimeout: db.connectTimeoutMs,
      waitForConnections: true,
      queueLimit: 0,
      enableKeepAlive: true,
      rowsAsArray: false,
      supportBigNumbers: true,
    };
    if (db.socket !== undefined) options.socketPath = db.socket;
    else {
      options.host = db.host;
      options.port = db.port;
    }
    this.pool = createPool(options);
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
