// The statements of the maildrop lease table (personality/maildrop-lock.sql). Every time is the
// database's own clock (UTC_TIMESTAMP: the same on every node whatever its time zone), never a
// host's; UTC_TIMESTAMP is evaluated once per statement, so one statement sees one "now".

/** `db.table` or `table`, quoted (c11n already allowed only letters, digits, `_` and `$`). */
export function quoteTable(table: string): string {
  return table
    .split('.')
    .map((part) => `\`${part}\``)
    .join('.');
}

export interface LeaseStatements {
  /**
   * Takes the lease if the maildrop has none, or only an expired one (or one with our token: a
   * retry after a broken connection). Params: maildrop, path, token, holder_host, holder,
   * seconds. affectedRows (without CLIENT_FOUND_ROWS): 1 inserted, 2 taken over, 0 held by another.
   */
  readonly take: string;
  /** Extends leases by their tokens (an IN list: sent as text). Params: seconds, [tokens]. */
  readonly renewMany: string;
  /** Which of these tokens still hold a lease. Params: [tokens]. */
  readonly stillHeld: string;
  /** Extends one lease (before UPDATE). Params: seconds, token. affectedRows 1: still ours. */
  readonly renewOne: string;
  /** Params: maildrop, token. */
  readonly release: string;
}

export function leaseStatements(table: string): LeaseStatements {
  const t = quoteTable(table);
  // Assignments run left to right, each seeing the ones before: the holder's columns first
  // (judged on the old token and expiry), then the token, then the expiry (judged on the new token).
  const free = 'expires_at <= UTC_TIMESTAMP(6) OR token = VALUES(token)';
  return {
    take:
      `INSERT INTO ${t} (maildrop, path, token, holder_host, holder, taken_at, expires_at) ` +
      'VALUES (?, ?, ?, ?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6) + INTERVAL ? SECOND) ' +
      'ON DUPLICATE KEY UPDATE ' +
      ['path', 'holder_host', 'holder', 'taken_at', 'token'].map((c) => `${c} = IF(${free}, VALUES(${c}), ${c})`).join(', ') +
      ', expires_at = IF(token = VALUES(token), VALUES(expires_at), expires_at)',
    renewMany: `UPDATE ${t} SET expires_at = UTC_TIMESTAMP(6) + INTERVAL ? SECOND WHERE token IN (?)`,
    stillHeld: `SELECT token FROM ${t} WHERE token IN (?)`,
    renewOne: `UPDATE ${t} SET expires_at = UTC_TIMESTAMP(6) + INTERVAL ? SECOND WHERE token = ?`,
    release: `DELETE FROM ${t} WHERE maildrop = ? AND token = ?`,
  };
}

/** affectedRows of an INSERT/UPDATE/DELETE result; 0 for anything else. */
export function affectedRows(result: unknown): number {
  if (typeof result !== 'object' || result === null || !('affectedRows' in result)) return 0;
  return typeof result.affectedRows === 'number' ? result.affectedRows : 0;
}

/** Another transaction took the same row at the same moment (InnoDB deadlock, Galera certification, a lock wait): the lease is in use. */
export function isTakeConflict(error: unknown): boolean {
  const errno = typeof error === 'object' && error !== null && 'errno' in error ? error.errno : undefined;
  return errno === 1213 || errno === 1205;
}
