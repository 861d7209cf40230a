// `check-config` and `serve` ask the database to prepare every configured query, so a typo in
// a column name fails the start with the database's own words instead of failing each login.
// A database that cannot be reached is no reason to refuse a start (it may come up later, and
// logins then recover by themselves): that is reported as a warning.
import type { Config, DatabaseConfig } from '../config/types';
import { connectToFirstServer, serverNames, type CheckConnection } from './mysql-connect';
import { compileQuery } from './query-format';

/** One configured query: its c11n key, the database it runs on, its text. */
interface ConfiguredQuery {
  readonly key: string;
  readonly database: DatabaseConfig;
  readonly format: string;
  /** The accounts store provides SHA2() on SQLite (sqlite.ts); deliver's runner does not. */
  readonly sqliteSha2: boolean;
}

export interface QueryCheck {
  /** Queries the database refused to prepare: the start must fail. */
  readonly rejected: readonly string[];
  /** Databases that could not be asked: the start goes on. */
  readonly warnings: readonly string[];
}

export function configuredQueries(config: Config): ConfiguredQuery[] {
  const queries: ConfiguredQuery[] = [
    { key: 'maildrop_query_format_string', database: config.accountsDatabase, format: config.maildropQuery, sqliteSha2: true },
  ];
  if (config.oauth2 !== undefined) {
    queries.push({ key: 'oauth2.maildrop_query_format_string', database: config.accountsDatabase, format: config.oauth2.maildropQuery, sqliteSha2: true });
  }
  // The UPDATEs that run after a login: a missing column would otherwise show only in the log.
  if (config.passwords.rehashQuery !== undefined) {
    queries.push({ key: 'rehash_query_format_string', database: config.accountsDatabase, format: config.passwords.rehashQuery, sqliteSha2: false });
  }
  if (config.policy.lastLoginQuery !== undefined) {
    queries.push({ key: 'last_login_query_format_string', database: config.accountsDatabase, format: config.policy.lastLoginQuery, sqliteSha2: false });
  }
  const deliver = config.deliver;
  if (deliver?.recipientQuery !== undefined) {
    queries.push({ key: 'deliver.recipient_query_format_string', database: deliver.database, format: deliver.recipientQuery, sqliteSha2: false });
  }
  if (deliver?.domainQuery !== undefined) {
    queries.push({ key: 'deliver.domain_query_format_string', database: deliver.database, format: deliver.domainQuery, sqliteSha2: false });
  }
  return queries;
}

/** Prepares each configured query on its database (one connection per database, then closed). */
export async function checkQueries(config: Config): Promise<QueryCheck> {
  const rejected: string[] = [];
  const warnings: string[] = [];
  const byDatabase = new Map<DatabaseConfig, ConfiguredQuery[]>();
  for (const query of configuredQueries(config)) byDatabase.set(query.database, [...(byDatabase.get(query.database) ?? []), query]);
  for (const [database, queries] of byDatabase) {
    const check = database.driver === 'sqlite' ? checkSqlite : checkMysql;
    const result = await check(database, queries);
    rejected.push(...result.rejected);
    warnings.push(...result.warnings);
  }
  return { rejected, warnings };
}

const rejection = (query: ConfiguredQuery, error: unknown): string =>
  `${query.key}: database "${query.database.name}" rejects the query: ${error instanceof Error ? error.message : String(error)}`;

async function checkSqlite(database: DatabaseConfig, queries: readonly ConfiguredQuery[]): Promise<QueryCheck> {
  const { default: Database } = await import('better-sqlite3');
  const rejected: string[] = [];
  let handle: InstanceType<typeof Database>;
  try {
    handle = new Database(database.file ?? '', { readonly: true, fileMustExist: true });
  } catch (error) {
    return { rejected: [`database "${database.name}": ${error instanceof Error ? error.message : String(error)}`], warnings: [] };
  }
  try {
    // SQLite resolves functions when it prepares: give it the one the accounts store adds.
    if (queries.some((q) => q.sqliteSha2)) handle.function('SHA2', { deterministic: true }, (_value: unknown, _bits: unknown) => null);
    for (const query of queries) {
      try {
        handle.prepare(compileQuery(query.format).sql);
      } catch (error) {
        rejected.push(rejection(query, error));
      }
    }
  } finally {
    handle.close();
  }
  return { rejected, warnings: [] };
}

async function checkMysql(database: DatabaseConfig, queries: readonly ConfiguredQuery[]): Promise<QueryCheck> {
  const notChecked = queries.map((q) => q.key).join(', ');
  let opened: CheckConnection;
  try {
    opened = await connectToFirstServer(database);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { rejected: [], warnings: [`database "${database.name}" (${serverNames(database)}) cannot be reached: ${reason}; not checked: ${notChecked}`] };
  }
  const { connection, server: where } = opened;
  const rejected: string[] = [];
  const warnings = opened.skipped.map((skipped) => `database "${database.name}": server ${skipped}; checked on ${where}`);
  try {
    for (const query of queries) {
      const outcome = await withTimeout(connection.prepare(compileQuery(query.format).sql), database.queryTimeoutMs);
      if (outcome.kind === 'timeout') {
        warnings.push(`database "${database.name}" (${where}) did not answer within ${database.queryTimeoutMs} ms; not checked: ${query.key}`);
        break;
      }
      if (outcome.kind === 'failed') {
        if (isConnectionError(outcome.error)) {
          warnings.push(`database "${database.name}" (${where}) went away: ${String(outcome.error)}; not checked: ${query.key}`);
          break;
        }
        rejected.push(rejection(query, outcome.error));
      } else outcome.value.close();
    }
  } finally {
    connection.destroy();
  }
  return { rejected, warnings };
}

export type Outcome<T> = { kind: 'ok'; value: T } | { kind: 'failed'; error: unknown } | { kind: 'timeout' };

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<Outcome<T>> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ kind: 'timeout' }), ms);
    promise.then(
      (value) => resolve({ kind: 'ok', value }),
      (error: unknown) => resolve({ kind: 'failed', error }),
    );
    promise.finally(() => clearTimeout(timer)).catch(() => undefined);
  });
}

/** mysql2 marks errors of the connection itself (not of the statement) as fatal. */
export function isConnectionError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { fatal?: unknown }).fatal === true;
}
