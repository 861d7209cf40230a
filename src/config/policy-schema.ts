// The `policy { ... }` section and last_login_query_format_string: RFC 2449's LOGIN-DELAY and
// EXPIRE, server-wide defaults that the maildrop query's `login_delay` and `expire` columns
// override per user. Plugged into src/config/r2d2-schema.ts.
import { C11nError, type Pos } from './errors';
import { selectedColumnNames } from './query-columns';
import { queryFormatCheck } from './query-format-check';
import { int, section, str, where } from './schema';
import type { ExpireDays, PolicyConfig } from './types';

/** A year: a login delay is a polling brake, not a ban. */
export const MAX_LOGIN_DELAY_SECONDS = 365 * 86_400;
/** A century of days. */
export const MAX_EXPIRE_DAYS = 36_500;

/** `NEVER` (any case) or a whole number of days; undefined when it is neither. */
export function parseExpire(text: string): ExpireDays | undefined {
  const trimmed = text.trim();
  if (/^never$/i.test(trimmed)) return 'never';
  if (!/^[0-9]{1,6}$/.test(trimmed)) return undefined;
  const days = Number(trimmed);
  return days <= MAX_EXPIRE_DAYS ? days : undefined;
}

const checkExpire = (text: string): string | undefined =>
  parseExpire(text) === undefined ? `must be a number of days (0 to ${MAX_EXPIRE_DAYS}) or never, got ${JSON.stringify(text)}` : undefined;

/** %u %l %d %r %% -- never %p: a password is not written anywhere. */
export const checkLastLoginQueryFormat = queryFormatCheck('uldr', 'a last-login query has %u %l %d %r and %%');

export const policySchema = section({
  // Seconds between two logins of one user (RFC 2449 LOGIN-DELAY); 0 = none.
  login_delay: int({ min: 0, max: MAX_LOGIN_DELAY_SECONDS }).default(0),
  // Days a retrieved message stays (RFC 2449 EXPIRE), or never; unset = not announced.
  expire: str().check(checkExpire),
});

type PolicyDoc = ReturnType<(typeof policySchema)['body']>;

export interface PolicyPlaces {
  readonly lastLoginQuery: Pos | undefined;
  readonly document: Pos;
}

/**
 * The section as a PolicyConfig. Which columns the maildrop query returns is read from its
 * text: `login_delay` and `expire` make the values per user (CAPA says USER before login),
 * and last_login_query_format_string needs a `last_login` column to read the time back.
 */
export function toPolicyConfig(doc: PolicyDoc, maildropQuery: string, lastLoginQuery: string | undefined, places: PolicyPlaces): PolicyConfig {
  const columns = selectedColumnNames(maildropQuery);
  const lastLoginColumn = columns.includes('last_login');
  if (lastLoginQuery !== undefined && !lastLoginColumn && !columns.includes('*')) {
    throw C11nError.at(
      places.lastLoginQuery ?? places.document,
      'last_login_query_format_string needs maildrop_query_format_string to return a last_login column (e.g. UNIX_TIMESTAMP(last_login) AS last_login)',
    );
  }
  const expire = doc.expire === undefined ? undefined : parseExpire(doc.expire);
  if (doc.expire !== undefined && expire === undefined) throw C11nError.at(where(doc, 'expire') ?? places.document, `"expire" ${checkExpire(doc.expire) ?? 'is invalid'}`);
  return {
    loginDelaySeconds: doc.login_delay,
    expire,
    loginDelayPerUser: columns.includes('login_delay'),
    expirePerUser: columns.includes('expire'),
    lastLoginColumn,
    lastLoginQuery,
  };
}
