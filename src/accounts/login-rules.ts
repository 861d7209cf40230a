// What the MySQL and SQLite stores share around their query: the compiled statement, how its
// rows become a login (password-login.ts), the background rehash, the last-login UPDATE and the
// logger they use.
import type { Logger } from 'pino';
import type { Config } from '../config/types';
import { openLog, type LogHandle } from '../log/logger';
import type { LoginRequest, LoginResult } from './accounts';
import { loginFromRows } from './password-login';
import { Rehasher, type RunUpdate } from './passwords/rehash';
import { bindParams, compileQuery, type CompiledQuery } from './query-format';

export class LoginRules {
  readonly query: CompiledQuery;
  /** last_login_query_format_string, compiled; undefined without one. */
  private readonly lastLoginQuery: CompiledQuery | undefined;
  private readonly rehasher: Rehasher | undefined;
  private ownLog: LogHandle | undefined;
  private readonly decoy: { value: string | undefined } = { value: undefined };

  /** `log`: the server's logger; without one (tools, older callers) a logger on the configured destination. */
  constructor(
    private readonly config: Config,
    private readonly runUpdate: RunUpdate,
    private readonly log: Logger | undefined,
  ) {
    this.query = compileQuery(config.maildropQuery);
    this.lastLoginQuery = config.policy.lastLoginQuery === undefined ? undefined : compileQuery(config.policy.lastLoginQuery);
    const { rehashTo, rehashQuery } = config.passwords;
    this.rehasher = rehashTo === undefined || rehashQuery === undefined ? undefined : new Rehasher(rehashTo, rehashQuery, runUpdate, () => this.logger());
  }

  /** Writes the login's time through last_login_query_format_string (nothing without one). */
  async recordLogin(request: LoginRequest): Promise<void> {
    const query = this.lastLoginQuery;
    if (query !== undefined) await this.runUpdate(query.sql, bindParams(query, request));
  }

  resolve(rows: readonly unknown[], request: LoginRequest): Promise<LoginResult> {
    return loginFromRows(rows, request, {
      passwords: this.config.passwords,
      maildirRoot: this.config.maildirRoot,
      queryHasPassword: this.query.params.includes('p'),
      rehasher: this.rehasher,
      log: () => this.logger(),
      decoy: this.decoy,
    });
  }

  /** Lets rewrites under way finish (the store closes its connections after). */
  async close(): Promise<void> {
    // The hashing pool is the thread's, shared with the store a reload opens: it stops when idle.
    await this.rehasher?.settle();
    await this.ownLog?.close();
  }

  private logger(): Logger {
    if (this.log !== undefined) return this.log;
    this.ownLog ??= openLog({ identity: this.config.identity, log: this.config.log });
    return this.ownLog.log;
  }
}
