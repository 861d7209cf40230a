// A login against the rows the maildrop query returned. Without a `password` column the query
// has checked the password in SQL: one row is a login. With one, r2d2 verifies it here; each
// row is a password of the same account (the main one, and app passwords marked by a non-NULL
// `app_password` column), and any that matches logs in.
import type { Logger } from 'pino';
import type { PasswordsConfig } from '../config/types';
import type { LoginRequest, LoginResult } from './accounts';
import { columnText, maildirFromRows, maildirOfRow, routeOf } from './maildir-path';
import type { Rehasher } from './passwords/rehash';
import { verifyPassword } from './passwords/verify';

export interface PasswordLoginOptions {
  readonly passwords: PasswordsConfig;
  readonly maildirRoot: string | undefined;
  /** The query binds %p: then it must not also return a password column. */
  readonly queryHasPassword: boolean;
  readonly rehasher: Rehasher | undefined;
  readonly log: () => Logger;
  /**
   * A stored hash seen on an earlier login of this store. An unknown user is verified against it
   * so that a miss costs what a wrong password costs (Argon2: ~100 ms): no timing tells users apart.
   */
  readonly decoy: { value: string | undefined };
}

export async function loginFromRows(rows: readonly unknown[], request: LoginRequest, options: PasswordLoginOptions): Promise<LoginResult> {
  const first = rows[0];
  if (first === undefined) {
    const decoy = options.decoy.value;
    if (decoy !== undefined) await verifyPassword(decoy, request.password, options.passwords).catch(() => undefined);
    return { kind: 'denied' };
  }
  const account = columnText(first, 'username') ?? request.user;
  if (!hasColumn(first, 'password')) {
    const result = maildirFromRows(rows, options.maildirRoot);
    return result.kind === 'ok' ? { ...result, account } : result;
  }
  if (options.queryHasPassword) {
    return { kind: 'refused', reason: 'the query returns a password column and also sends %p: remove %p' };
  }
  const maildirs = new Set<string>();
  for (const row of rows) {
    const maildir = maildirOfRow(row, options.maildirRoot);
    if (typeof maildir !== 'string') return maildir;
    maildirs.add(maildir);
  }
  const [maildir] = maildirs;
  if (maildir === undefined || maildirs.size > 1) return { kind: 'refused', reason: `query returned ${rows.length} rows with ${maildirs.size} different maildirs` };
  // The main password first: it is the one most logins use.
  const ordered = [...rows].sort((a, b) => Number(isAppPassword(a)) - Number(isAppPassword(b)));
  const unusable: string[] = [];
  for (const row of ordered) {
    const value = columnText(row, 'password') ?? '';
    const verdict = await verifyPassword(value, request.password, options.passwords);
    if (verdict.kind !== 'unusable' && !isAppPassword(row)) options.decoy.value = value;
    if (verdict.kind === 'mismatch') continue;
    if (verdict.kind === 'unusable') {
      unusable.push(describe(row, verdict.reason));
      continue;
    }
    const matched = isAppPassword(row) ? 'app' : 'main';
    if (unusable.length > 0) options.log().warn({ user: account, problems: unusable.join('; ') }, 'login ok, but some password values are unusable');
    if (matched === 'main') options.rehasher?.consider(verdict.stored, value, request, account);
    return { kind: 'ok', maildir, account, matched, ...routeOf(row) };
  }
  if (unusable.length > 0) return { kind: 'refused', reason: `no password matched and ${unusable.join('; ')}` };
  return { kind: 'denied', account };
}

function hasColumn(row: unknown, name: string): boolean {
  return row !== null && typeof row === 'object' && !Array.isArray(row) && name in row;
}

function isAppPassword(row: unknown): boolean {
  return columnText(row, 'app_password') !== undefined;
}

function describe(row: unknown, reason: string): string {
  const app = columnText(row, 'app_password');
  return app === undefined ? `the main password: ${reason}` : `app password ${JSON.stringify(app.slice(0, 64))}: ${reason}`;
}
