// The optional policy columns of the maildrop query's row (RFC 2449 LOGIN-DELAY and EXPIRE):
// `login_delay` (seconds), `expire` (days or NEVER) and `last_login` (when the account last
// logged in, written back by last_login_query_format_string). NULL or absent: the server's
// default. A value r2d2 cannot read refuses the login: a garbled `expire` must never turn into
// "delete now".
import { MAX_EXPIRE_DAYS, MAX_LOGIN_DELAY_SECONDS, parseExpire } from '../config/policy-schema';
import type { ExpireDays } from '../config/types';

export interface UserPolicy {
  readonly loginDelaySeconds: number | undefined;
  readonly expire: ExpireDays | undefined;
  /** The previous login, ms since the epoch; undefined when never (or NULL). */
  readonly lastLoginMs: number | undefined;
}

export type PolicyOfRow = { readonly kind: 'policy'; readonly policy: UserPolicy } | { readonly kind: 'refused'; readonly reason: string };

export function policyOfRow(row: unknown): PolicyOfRow {
  const record = row !== null && typeof row === 'object' && !Array.isArray(row) ? (row as Record<string, unknown>) : {};
  const delay = record['login_delay'];
  const expire = record['expire'];
  const last = record['last_login'];
  const loginDelaySeconds = wholeNumber(delay);
  if (loginDelaySeconds === null || (loginDelaySeconds !== undefined && loginDelaySeconds > MAX_LOGIN_DELAY_SECONDS)) {
    return refused(`login_delay column is not a number of seconds (0 to ${MAX_LOGIN_DELAY_SECONDS}): ${shown(delay)}`);
  }
  const expireDays = expireOf(expire);
  if (expireDays === null) return refused(`expire column is not a number of days (0 to ${MAX_EXPIRE_DAYS}) or NEVER: ${shown(expire)}`);
  const lastLoginMs = timeOf(last);
  if (lastLoginMs === null) return refused(`last_login column is not a time (a DATETIME, or Unix seconds): ${shown(last)}`);
  return { kind: 'policy', policy: { loginDelaySeconds, expire: expireDays, lastLoginMs } };
}

const refused = (reason: string): PolicyOfRow => ({ kind: 'refused', reason });

/** undefined: NULL or absent; null: not a whole number >= 0. */
function wholeNumber(value: unknown): number | undefined | null {
  if (value === null || value === undefined) return undefined;
  const text = value instanceof Buffer ? value.toString('latin1') : typeof value === 'number' || typeof value === 'bigint' || typeof value === 'string' ? String(value) : '';
  if (!/^[0-9]{1,15}$/.test(text.trim())) return null;
  return Number(text.trim());
}

function expireOf(value: unknown): ExpireDays | undefined | null {
  if (value === null || value === undefined) return undefined;
  const text = value instanceof Buffer ? value.toString('latin1') : typeof value === 'number' || typeof value === 'bigint' || typeof value === 'string' ? String(value) : '';
  return parseExpire(text) ?? null;
}

/**
 * A DATETIME or TIMESTAMP (mysql2 gives a Date, read in r2d2's time zone, as the database's
 * NOW() writes it when both run in the same zone), Unix seconds (`UNIX_TIMESTAMP(last_login)`,
 * the form that needs no shared time zone), or SQLite's text `YYYY-MM-DD HH:MM:SS` (UTC, as
 * its CURRENT_TIMESTAMP writes it). MySQL's zero date and 0 mean never.
 */
function timeOf(value: unknown): number | undefined | null {
  if (value === null || value === undefined) return undefined;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.getTime();
  const text = value instanceof Buffer ? value.toString('latin1') : typeof value === 'number' || typeof value === 'bigint' || typeof value === 'string' ? String(value).trim() : undefined;
  if (text === undefined) return null;
  if (/^[0-9]{1,12}(\.[0-9]+)?$/.test(text)) {
    const seconds = Number(text);
    return seconds === 0 ? undefined : Math.round(seconds * 1000);
  }
  if (/^0000-00-00/.test(text)) return undefined;
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}:?\d{2})?$/.exec(text);
  if (m === null) return null;
  const ms = Date.parse(`${m[1]}T${m[2]}${m[3] ?? 'Z'}`);
  return Number.isNaN(ms) ? null : ms;
}

function shown(value: unknown): string {
  const text = value instanceof Date ? value.toISOString() : value instanceof Buffer ? value.toString('latin1') : String(value);
  return JSON.stringify(text.slice(0, 40));
}
