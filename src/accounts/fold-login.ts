/**
 * A login name as a case- and accent-insensitive collation (MariaDB's `utf8mb4_unicode_ci`, the
 * usual one for a mailbox table) compares it: `bob`, `BOB`, `bób`, `BÖB` and `bob ` (PAD SPACE
 * ignores trailing spaces) are one account to the database, so they are one name to the
 * failed-login counters too. Compatibility decomposition, combining marks dropped, lower case.
 */
export function foldLogin(name: string): string {
  return name.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase().replace(/ +$/, '');
}
