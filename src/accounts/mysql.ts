import type { Logger } from 'pino';
import { createPool, type Pool } from 'mysql2/promise';
import type { Config } from '../config/types';
import type { Accounts, LoginRequest, LoginResult, TokenLogins } from './accounts';
import { LoginRules } from './login-rules';
import { mysqlConnectionOptions } from './mysql-options';
import { NO_ACCOUNTS_PROBE, probed, type AccountsProbe, type PoolUse } from './probe';
import { bindParams, type CompiledQuery } from './query-format';

/**
 * Accounts in MySQL/MariaDB through a mysql2 pool. The query runs as a prepared statement
 * (`execute`), cached per connection by mysql2; the pool reconnects by itself when the
 * database comes back, so logins recover without a restart.
 */
export class MysqlAccounts implements Accounts {
  private readonly pool: Pool;
  private readonly rules: LoginRules;
  private readonly queryTimeoutMs: number;
  readonly tokens: TokenLogins | undefined;
  private readonly use: PoolUse;
  private readonly unwatch: () => void;

  constructor(
    config: Config,
    log?: Logger,
    private readonly probe: AccountsProbe = NO_ACCOUNTS_PROBE,
  ) {
    const db = config.accountsDatabase;
    this.queryTimeoutMs = db.queryTimeoutMs;
    this.use = { size: db.poolSize, inFlight: 0 };
    this.unwatch = probe.watchPool(this.use);
    this.pool = createPool({
      ...mysqlConnectionOptions(db),
      connectionLimit: db.poolSize,
      waitForConnections: true,
      queueLimit: 0,
      enableKeepAlive: true,
      rowsAsArray: false,
      supportBigNumbers: true,
    });
    this.rules = new LoginRules(config, (sql, params) => this.update(sql, params), log, probe);
    this.tokens = this.rules.tokenLogins((query, request) => this.rows(query, request));
  }

  async authenticate(request: LoginRequest): Promise<LoginResult> {
    const rows = await this.rows(this.rules.query, request);
    if (rows === undefined) return { kind: 'refused', reason: 'query is not a SELECT' };
    return this.rules.resolve(rows, request);
  }

  /** The rows of a SELECT; undefined when the statement returned none (not a SELECT). */
  private async rows(query: CompiledQuery, request: LoginRequest): Promise<unknown[] | undefined> {
    const [rows] = await probed(this.probe, this.use, 'login', () => this.pool.execute({ sql: query.sql, timeout: this.queryTimeoutMs }, bindParams(query, request)));
    return Array.isArray(rows) ? rows : undefined;
  }

  recordLogin(request: LoginRequest): Promise<void> {
    return this.rules.recordLogin(request);
  }

  async close(): Promise<void> {
    await this.rules.close();
    await this.pool.end();
    this.unwatch();
  }

  private async update(sql: string, params: readonly string[]): Promise<number> {
    const [result] = await probed(this.probe, this.use, 'rehash', () => this.pool.execute({ sql, timeout: this.queryTimeoutMs }, [...params]));
    return 'affectedRows' in result ? result.affectedRows : 0;
  }
}
