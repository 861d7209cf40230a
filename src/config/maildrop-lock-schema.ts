// The `maildrop_lock { ... }` section: where the exclusive maildrop lock (RFC 1939 §8) lives.
// `local`: lock files in the maildir (one host); `database`: a lease row per maildrop in a MySQL
// or MariaDB table, shared by every host (src/lease). Plugged into r2d2-schema.ts.
import { C11nError } from './errors';
import { here, int, oneOf, section, str, where } from './schema';
import type { DatabaseConfig, MaildropLockConfig } from './types';

/** A lease shorter than this would be renewed (every lease/3) more often than a database round trip allows for. */
const MIN_LEASE_SECONDS = 3;
/** A crashed host's maildrops are free after one lease: longer than an hour helps nobody. */
const MAX_LEASE_SECONDS = 3600;

/** An SQL identifier r2d2 can write unquoted and quoted alike: `r2d2_maildrop_lock` or `locks.r2d2_maildrop_lock`. */
const checkTable = (name: string): string | undefined =>
  /^[A-Za-z_][A-Za-z0-9_$]{0,63}(\.[A-Za-z_][A-Za-z0-9_$]{0,63})?$/.test(name)
    ? undefined
    : `must be a table name (letters, digits, _ and $, optionally database.table), got ${JSON.stringify(name)}`;

export const maildropLockSchema = section({
  backend: oneOf(['local', 'database']).default('local'),
  // Seconds a lease lasts without renewal (renewed every lease/3): a crashed or cut-off host's
  // maildrops are served elsewhere after this long.
  lease: int({ min: MIN_LEASE_SECONDS, max: MAX_LEASE_SECONDS }).default(30),
  // The database section holding the lease table (default: the accounts database).
  database: str(),
  table: str().check(checkTable).default('r2d2_maildrop_lock'),
});

type MaildropLockDoc = ReturnType<(typeof maildropLockSchema)['body']>;

export function toMaildropLockConfig(doc: MaildropLockDoc, databases: readonly DatabaseConfig[], accounts: DatabaseConfig): MaildropLockConfig {
  const leaseMs = doc.lease * 1000;
  if (doc.backend === 'local') {
    if (doc.database !== undefined) {
      throw C11nError.at(here(doc, 'database'), '"database" is for backend = database (this maildrop_lock is local)');
    }
    return { backend: 'local', leaseMs, database: undefined, table: doc.table };
  }
  let database = accounts;
  if (doc.database !== undefined) {
    const found = databases.find((d) => d.name === doc.database);
    if (found === undefined) {
      const known = databases.map((d) => d.name).join(', ');
      throw C11nError.at(here(doc, 'database'), `"database" names no database section: ${JSON.stringify(doc.database)} (known: ${known})`);
    }
    database = found;
  }
  if (database.driver !== 'mysql') {
    const at = where(doc, 'database') ?? where(doc, 'backend') ?? here(doc);
    throw C11nError.at(at, `backend = database needs a mysql database section; "${database.name}" is ${database.driver}`);
  }
  return { backend: 'database', leaseMs, database, table: doc.table };
}
