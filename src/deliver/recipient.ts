// `r2d2 deliver --recipient user@domain`: the maildir (and quota) from the personality's
// deliver.recipient_query_format_string, with the login query's bound-parameter rules.
import { maildirFromRows } from '../accounts/maildir-path';
import { bindParams, compileQuery } from '../accounts/query-format';
import type { DatabaseConfig, DeliverConfig } from '../config/types';
import { parseQuotaSpec, type QuotaDefinition } from '../maildrop/quota';
import { DeliveryError, EX_NOHOST, EX_NOUSER, EX_TEMPFAIL, EX_USAGE } from './sysexits';

export interface RecipientMaildir {
  readonly maildir: string;
  /** From the row's `quota` column; undefined when there is none or it is NULL. */
  readonly quota: QuotaDefinition | undefined;
  /** The address that matched (without its extension when only that matched). */
  readonly matched: string;
}

/** Runs one query: SQL with `?` placeholders and their values; answers the rows. */
export type RunQuery = (sql: string, params: readonly string[]) => Promise<unknown[]>;

/** RFC 5321 §4.5.3.1.3: a path is at most 256 octets; allow a little more, never control characters. */
const MAX_RECIPIENT = 320;

export async function resolveRecipient(
  recipient: string,
  deliver: DeliverConfig,
  maildirRoot: string | undefined,
  runQuery: RunQuery,
): Promise<RecipientMaildir> {
  const address = normalise(recipient);
  if (deliver.recipientQuery === undefined) {
    throw new DeliveryError(EX_TEMPFAIL, 'the personality has no deliver.recipient_query_format_string: use --maildir or set it');
  }
  const query = compileQuery(deliver.recipientQuery);
  const candidates = [address];
  const bare = withoutExtension(address, deliver.recipientDelimiter);
  if (bare !== undefined) candidates.push(bare);
  for (const candidate of candidates) {
    const rows = await ask(runQuery, query.sql, bindParams(query, { user: candidate, password: '', peer: '' }));
    const result = maildirFromRows(rows, maildirRoot);
    if (result.kind === 'denied') continue;
    if (result.kind === 'refused') throw new DeliveryError(EX_TEMPFAIL, `recipient query for ${candidate}: ${result.reason}`);
    return { maildir: result.maildir, quota: quotaOf(rows[0], candidate), matched: candidate };
  }
  if (deliver.domainQuery !== undefined) {
    const domainQuery = compileQuery(deliver.domainQuery);
    const rows = await ask(runQuery, domainQuery.sql, bindParams(domainQuery, { user: address, password: '', peer: '' }));
    if (rows.length === 0) throw new DeliveryError(EX_NOHOST, `unknown domain: ${domainOf(address) || '(none)'}`);
  }
  throw new DeliveryError(EX_NOUSER, `unknown recipient: ${address}`);
}

function normalise(recipient: string): string {
  if (recipient.length === 0 || recipient.length > MAX_RECIPIENT || /[\x00-\x20\x7f]/.test(recipient)) {
    throw new DeliveryError(EX_USAGE, `not a recipient address: ${JSON.stringify(recipient.slice(0, 80))}`);
  }
  const at = recipient.lastIndexOf('@');
  // Domains are case-insensitive (RFC 5321 §2.4); local parts are left as given.
  return at === -1 ? recipient : recipient.slice(0, at) + '@' + recipient.slice(at + 1).toLowerCase();
}

const domainOf = (address: string): string => {
  const at = address.lastIndexOf('@');
  return at === -1 ? '' : address.slice(at + 1);
};

/** `user+ext@domain` -> `user@domain` (the first delimiter starts the extension), else undefined. */
export function withoutExtension(address: string, delimiter: string | undefined): string | undefined {
  if (delimiter === undefined) return undefined;
  const at = address.lastIndexOf('@');
  const local = at === -1 ? address : address.slice(0, at);
  const cut = local.indexOf(delimiter);
  if (cut <= 0) return undefined;
  return local.slice(0, cut) + (at === -1 ? '' : address.slice(at));
}

async function ask(runQuery: RunQuery, sql: string, params: readonly string[]): Promise<unknown[]> {
  try {
    return await runQuery(sql, params);
  } catch (e) {
    const code = typeof e === 'object' && e !== null && 'code' in e ? String(e.code) : '';
    const text = e instanceof Error ? e.message : String(e);
    throw new DeliveryError(EX_TEMPFAIL, `recipient database: ${code === '' ? text : `${code}: ${text}`}`, { cause: e });
  }
}

function quotaOf(row: unknown, who: string): QuotaDefinition | undefined {
  if (row === null || typeof row !== 'object' || Array.isArray(row) || !('quota' in row)) return undefined;
  const value: unknown = row.quota;
  if (value === null || value === undefined) return undefined;
  const text = value instanceof Buffer ? value.toString('utf8') : value;
  if (typeof text !== 'string' && typeof text !== 'number' && typeof text !== 'bigint') {
    throw new DeliveryError(EX_TEMPFAIL, `recipient query for ${who}: the quota column is not a number or text`);
  }
  const def = parseQuotaSpec(text);
  if (def === undefined) throw new DeliveryError(EX_TEMPFAIL, `recipient query for ${who}: quota ${JSON.stringify(String(text))} is not a quota`);
  return def;
}

/** A one-shot query runner for a database section: one connection, closed by `close`. */
export async function openQueryRunner(db: DatabaseConfig): Promise<{ run: RunQuery; close(): Promise<void> }> {
  if (db.driver === 'sqlite') {
    const { default: Database } = await import('better-sqlite3');
    if (db.file === undefined) throw new DeliveryError(EX_TEMPFAIL, `database "${db.name}": sqlite needs a file`);
    let handle: InstanceType<typeof Database>;
    try {
      handle = new Database(db.file, { readonly: true, fileMustExist: true });
    } catch (e) {
      throw new DeliveryError(EX_TEMPFAIL, `recipient database: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    return {
      run: async (sql, params) => handle.prepare(sql).all(...params),
      close: async () => {
        handle.close();
      },
    };
  }
  // One connection, to the first of the section's servers that answers (mysql-pool.ts).
  const { openMysqlPool } = await import('../accounts/mysql-pool');
  const pool = openMysqlPool(db, { connectionLimit: 1 });
  return {
    run: async (sql, params) => {
      const rows = await pool.run({ sql, params, timeoutMs: db.queryTimeoutMs, retry: true });
      if (!Array.isArray(rows)) throw new Error('the query is not a SELECT');
      return rows;
    },
    close: () => pool.end(),
  };
}
