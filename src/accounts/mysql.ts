import type { Logger } from 'pino';
import type { Config } from '../config/types';
import type { Accounts, LoginRequest, LoginResult, TokenLogins } from './accounts';
import { LoginRules } from './login-rules';
import { openMysqlPool, type MysqlPool } from './mysql-pool';
import { NO_ACCOUNTS_PROBE, probed, type AccountsProbe, type PoolUse } from './probe';
import { bindParams, type CompiledQuery } from './query-format';

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
    this.pool = openMysqlPool(db, { connectionLimit: db.poolSize, log });
    this.rules = new LoginRules(config, (sql, params) => this.update(sql, params), log, probe);
    this.tokens = this.rules.tokenLogins((query, request) => this.rows(query, request));
  }

  async authenticate(request: LoginRequest): Promise<LoginResult> {
    const rows = await this.rows(this.rules.query, request);
    if (rows === undefined) return { kind: 'refused', reason: 'query is not a SELECT' };
    return this.rules.resolve(rows, request);
  }

  recordLogin(request: LoginRequest): Promise<void> {
    return this.rules.recordLogin(request);
  }

  async close(): Promise<void> {
    await this.rules.close();
    await this.pool.end();
    this.unwatch();
  }

  /** The rows of a SELECT (asked again of the next server if a connection broke); undefined when it returned none. */
  private async rows(query: CompiledQuery, request: LoginRequest): Promise<unknown[] | undefined> {
    const rows = await probed(this.probe, this.use, 'login', () =>
      this.pool.run({ sql: query.sql, params: bindParams(query, request), timeoutMs: this.queryTimeoutMs, retry: true }),
    );
    return Array.isArray(rows) ? rows : undefined;
  }

  private async update(sql: string, params: readonly string[]): Promise<number> {
    const result = await probed(this.probe, this.use, 'rehash', () => this.pool.run({ sql, params, timeoutMs: this.queryTimeoutMs, retry: false }));
    return 'affectedRows' in result ? result.affectedRows : 0;
  }
}
