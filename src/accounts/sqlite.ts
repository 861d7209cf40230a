import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { Config } from '../config/types';
import type { Accounts, LoginRequest, LoginResult, TokenLogins } from './accounts';
import { LoginRules } from './login-rules';
import { NO_ACCOUNTS_PROBE, probed, type AccountsProbe } from './probe';
import { bindParams } from './query-format';

/**
 * The embedded default: the same query mechanism over an SQLite file, so `npm start` needs no
 * MySQL server. MySQL's SHA2(x, 256) is provided so one query text works on both.
 */
export class SqliteAccounts implements Accounts {
  private readonly db: Database.Database;
  private readonly statement: Database.Statement;
  private readonly rules: LoginRules;
  readonly tokens: TokenLogins | undefined;

  constructor(
    config: Config,
    log?: Logger,
    private readonly probe: AccountsProbe = NO_ACCOUNTS_PROBE,
  ) {
    const file = config.accountsDatabase.file;
    if (file === undefined) throw new Error(`database "${config.accountsDatabase.name}": sqlite needs a file`);
    this.db = new Database(file, { fileMustExist: true });
    this.db.function('SHA2', { deterministic: true }, (value: unknown, bits: unknown) => sha2(value, bits));
    this.rules = new LoginRules(config, (sql, params) => probed(probe, undefined, 'rehash', async () => this.db.prepare(sql).run(...params).changes), log, probe);
    this.statement = this.db.prepare(this.rules.query.sql);
    const tokenStatements = new Map<string, Database.Statement>();
    this.tokens = this.rules.tokenLogins(async (query, request) => {
      let statement = tokenStatements.get(query.sql);
      if (statement === undefined) tokenStatements.set(query.sql, (statement = this.db.prepare(query.sql)));
      return statement.all(...bindParams(query, request));
    });
  }

  async authenticate(request: LoginRequest): Promise<LoginResult> {
    const rows = await probed(this.probe, undefined, 'login', async () => this.statement.all(...bindParams(this.rules.query, request)));
    return this.rules.resolve(rows, request);
  }

  recordLogin(request: LoginRequest): Promise<void> {
    return this.rules.recordLogin(request);
  }

  async close(): Promise<void> {
    await this.rules.close();
    this.db.close();
  }
}

function sha2(value: unknown, bits: unknown): string | null {
  if (value === null || value === undefined) return null;
  const algorithm = Number(bits) === 512 ? 'sha512' : Number(bits) === 384 ? 'sha384' : 'sha256';
  return createHash(algorithm).update(String(value)).digest('hex');
}
