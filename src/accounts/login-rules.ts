// What the MySQL and SQLite stores share around their query: the compiled statement, how its
// rows become a login (password-login.ts), the background rehash, the last-login UPDATE and the
// logger they use.
import type { Logger } from 'pino';
import type { Config } from '../config/types';
import { openLog, type LogHandle } from '../log/logger';
import type { LoginRequest, LoginResult, TokenLogins } from './accounts';
import { columnText, maildirFromRows } from './maildir-path';
import { OAuth2Logins } from './oauth2/token-logins';
import { loginFromRows } from './password-login';
import { NO_ACCOUNTS_PROBE, type AccountsProbe } from './probe';
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
    private readonly probe: AccountsProbe = NO_ACCOUNTS_PROBE,
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
      probe: this.probe,
    });
  }

  /**
   * Token logins (the `oauth2` section) over `run`, the store's way to run a query; undefined
   * without the section. Their query is the section's own: one row, the maildir of %u.
   */
  tokenLogins(run: (query: CompiledQuery, request: LoginRequest) => Promise<readonly unknown[] | undefined>): TokenLogins | undefined {
    const oauth2 = this.config.oauth2;
    if (oauth2 === undefined) return undefined;
    const query = compileQuery(oauth2.maildropQuery);
    const find = async (user: string, peer: string): Promise<LoginResult> => {
      const rows = await run(query, { user, password: '', peer });
      if (rows === undefined) return { kind: 'refused', reason: 'oauth2 query is not a SELECT' };
      const result = maildirFromRows(rows, this.config.maildirRoot);
      return result.kind === 'ok' ? { ...result, account: columnText(rows[0], 'username') ?? user } : result;
    };
    return new OAuth2Logins(oauth2, find, () => this.logger());
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
