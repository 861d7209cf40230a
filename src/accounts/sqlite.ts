import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import type { DatabaseConfig } from '../config/types';
import type { Accounts, LoginRequest, LoginResult } from './accounts';
import { maildirFromRows } from './maildir-path';
import { bindParams, compileQuery, type CompiledQuery } from './query-format';

/**
 * The embedded default: the same query mechanism over an SQLite file, so `npm start` needs no
 * MySQL server. MySQL's SHA2(x, 256) is provided so one query text works on both.
 */
export class SqliteAccounts implements Accounts {
  private readonly db: Database.Database;
  private readonly statement: Database.Statement;
  private readonly query: CompiledQuery;

  constructor(config: DatabaseConfig, queryFormat: string, private readonly maildirRoot: string | undefined) {
    if (config.file === undefined) throw new Error(`database "${config.name}": sqlite needs a file`);
    this.db = new Database(config.file, { fileMustExist: true });
    this.db.function('SHA2', { deterministic: true }, (value: unknown, bits: unknown) => sha2(value, bits));
    this.query = compileQuery(queryFormat);
    this.statement = this.db.prepare(this.query.sql);
  }

  async authenticate(request: LoginRequest): Promise<LoginResult> {
    const rows = this.statement.all(...bindParams(this.query, request));
    return maildirFromRows(rows, this.maildirRoot);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

function sha2(value: unknown, bits: unknown): string | null {
  if (value === null || value === undefined) return null;
  const algorithm = Number(bits) === 512 ? 'sha512' : Number(bits) === 384 ? 'sha384' : 'sha256';
  return createHash(algorithm).update(String(value)).digest('hex');
}
