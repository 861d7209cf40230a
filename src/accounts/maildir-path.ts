import { isAbsolute, resolve } from 'node:path';
import { isInside } from '../maildrop/paths';
import type { LoginResult, Route } from './accounts';

/** Columns a login query may return besides the maildir. */
const NOT_MAILDIR = new Set(['password', 'app_password', 'username', 'host', 'port']);

/**
 * Turns the rows a store returned into a login result: exactly one row whose maildir column
 * (see maildirOfRow) is a path inside maildir_root when that is set. Anything else is
 * refused, never served.
 */
export function maildirFromRows(rows: readonly unknown[], maildirRoot: string | undefined): LoginResult {
  if (rows.length === 0) return { kind: 'denied' };
  if (rows.length > 1) return { kind: 'refused', reason: `query returned ${rows.length} rows` };
  const maildir = maildirOfRow(rows[0], maildirRoot);
  return typeof maildir === 'string' ? { kind: 'ok', maildir, ...routeOf(rows[0]) } : maildir;
}

/** `{ route }` when the row has a non-NULL `host` or `port` column; nothing otherwise. */
export function routeOf(row: unknown): { readonly route?: Route } {
  const host = columnText(row, 'host');
  const port = columnText(row, 'port');
  if (host === undefined && port === undefined) return {};
  return { route: { ...(host === undefined ? {} : { host }), ...(port === undefined ? {} : { port }) } };
}

/**
 * The maildir of one row: the column named `maildir`, else the first column (the first that
 * is not password, app_password, username, host or port). A relative path (PostfixAdmin stores
 * `example.com/john/`) resolves under maildir_root; without maildir_root it is refused.
 */
export function maildirOfRow(row: unknown, maildirRoot: string | undefined): string | { readonly kind: 'refused'; readonly reason: string } {
  const value = maildirColumn(row);
  if (typeof value !== 'string' || value.length === 0) return { kind: 'refused', reason: 'query returned no maildir path' };
  if (!isAbsolute(value) && maildirRoot === undefined) return { kind: 'refused', reason: 'maildir path is not absolute (a relative one needs maildir_root)' };
  const root = maildirRoot === undefined ? undefined : resolve(maildirRoot);
  const maildir = root === undefined ? resolve(value) : resolve(root, value);
  if (root !== undefined && !isInside(maildir, root)) return { kind: 'refused', reason: 'maildir path is outside maildir_root' };
  return maildir;
}

/** A column's value as text (mysql2 gives binary columns as Buffers); null and absent are undefined. */
export function columnText(row: unknown, name: string): string | undefined {
  if (row === null || typeof row !== 'object' || Array.isArray(row)) return undefined;
  const value = (row as Record<string, unknown>)[name];
  if (value instanceof Buffer) return value.toString('utf8');
  if (typeof value === 'string') return value;
  return typeof value === 'number' || typeof value === 'bigint' ? String(value) : undefined;
}

function maildirColumn(row: unknown): unknown {
  if (Array.isArray(row)) return row[0] instanceof Buffer ? row[0].toString('utf8') : row[0];
  if (row === null || typeof row !== 'object') return undefined;
  const record = row as Record<string, unknown>;
  const name = 'maildir' in record ? 'maildir' : (Object.keys(record).find((key) => !NOT_MAILDIR.has(key.toLowerCase())) ?? Object.keys(record)[0]);
  const value = name === undefined ? undefined : record[name];
  return value instanceof Buffer ? value.toString('utf8') : value;
}
