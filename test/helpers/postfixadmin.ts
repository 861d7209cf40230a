// PostfixAdmin's accounts tables (its upgrade.php schema, the columns r2d2 and Dovecot read)
// and password hashes made by other implementations, for the password-hash tests.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestDatabase } from './mariadb';

/** The login query of personality/modules/postfixadmin.c11n: the main password, then app passwords. */
export const POSTFIXADMIN_QUERY =
  'SELECT m.username, m.maildir, m.password, NULL AS app_password FROM mailbox m WHERE m.username = %u AND m.active = 1 ' +
  'UNION ALL SELECT m.username, m.maildir, a.password_hash, a.id FROM mailbox_app_password a JOIN mailbox m ON m.username = a.username ' +
  'WHERE a.username = %u AND m.active = 1';

export const POSTFIXADMIN_REHASH = 'UPDATE mailbox SET password = %h WHERE username = %u AND password = %o';

/** Replaces r2d2's example table with PostfixAdmin's. */
export async function usePostfixAdminTables(db: TestDatabase): Promise<void> {
  await db.query('DROP TABLE mailbox');
  await db.query(`CREATE TABLE mailbox (
    username varchar(255) NOT NULL, password varchar(255) NOT NULL, name varchar(255) NOT NULL DEFAULT '',
    maildir varchar(255) NOT NULL, quota bigint(20) NOT NULL DEFAULT 0, local_part varchar(255) NOT NULL,
    domain varchar(255) NOT NULL, created datetime NOT NULL DEFAULT '2000-01-01 00:00:00',
    modified datetime NOT NULL DEFAULT '2000-01-01 00:00:00', active tinyint(1) NOT NULL DEFAULT 1,
    phone varchar(30) NOT NULL DEFAULT '', email_other varchar(255) NOT NULL DEFAULT '',
    token varchar(255) NOT NULL DEFAULT '', token_validity datetime NOT NULL DEFAULT '2000-01-01 00:00:00',
    password_expiry datetime NOT NULL DEFAULT '2000-01-01 00:00:00', totp_secret varchar(255) DEFAULT NULL,
    PRIMARY KEY (username), KEY domain (domain)) DEFAULT CHARSET=utf8mb4 COMMENT='Postfix Admin - Virtual Mailboxes'`);
  await db.query(`CREATE TABLE mailbox_app_password (
    id int(11) NOT NULL AUTO_INCREMENT, username varchar(255) NOT NULL, description varchar(255) DEFAULT NULL,
    password_hash varchar(255) DEFAULT NULL, PRIMARY KEY (id)) DEFAULT CHARSET=utf8mb4`);
}

/** A mailbox as PostfixAdmin writes it: maildir relative to the mail root, `example.com/john/`. */
export async function addMailbox(db: TestDatabase, username: string, hash: string, active = true): Promise<string> {
  const [local = '', domain = ''] = username.split('@');
  const maildir = `${domain}/${local}/`;
  await db.query('INSERT INTO mailbox (username, password, maildir, local_part, domain, active) VALUES (?, ?, ?, ?, ?, ?)', [username, hash, maildir, local, domain, active ? 1 : 0]);
  return maildir;
}

export async function addAppPassword(db: TestDatabase, username: string, description: string, hash: string): Promise<void> {
  await db.query('INSERT INTO mailbox_app_password (username, description, password_hash) VALUES (?, ?, ?)', [username, description, hash]);
}

/** Runs a tool with the password on standard input (never on a command line). */
function run(command: string, args: string[], input: string): string {
  return execFileSync(command, args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] }).trim();
}

/** Dovecot's own generator, with a config of its own (the system's is never read). */
export class Doveadm {
  private readonly dir = mkdtempSync(join(tmpdir(), 'r2d2-doveadm-'));
  private readonly config = join(this.dir, 'dovecot.conf');
  constructor() {
    writeFileSync(this.config, `ssl = no\nbase_dir = ${this.dir}\n`);
  }

  /** `doveadm pw -s SCHEME`: asks twice, both answers from stdin. */
  hash(scheme: string, password: string): string {
    return run('doveadm', ['-c', this.config, 'pw', '-s', scheme], `${password}\n${password}\n`);
  }

  /** `doveadm pw -t HASH`: does Dovecot accept this password for this hash? */
  verifies(hash: string, password: string): boolean {
    try {
      return run('doveadm', ['-c', this.config, 'pw', '-t', hash], `${password}\n`).includes('(verified)');
    } catch {
      return false;
    }
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const openssl = (flag: '-1' | '-5' | '-6', password: string): string => run('openssl', ['passwd', flag, '-stdin'], password);

/** `htpasswd -B`: bcrypt as Apache writes it ($2y$). */
export const htpasswd = (password: string): string => run('htpasswd', ['-B', '-n', '-i', 'user'], password).replace(/^user:/, '');

/** `mkpasswd` (Debian's whois package, libxcrypt underneath). */
export const mkpasswd = (method: string, password: string): string => run('mkpasswd', ['-m', method, '-s'], password);

/** Python's passlib (Debian's python3-passlib): `algorithm` is a passlib.hash name; `rounds` optional. */
export function passlib(algorithm: string, password: string, rounds?: number): string {
  const using = rounds === undefined ? '' : `.using(rounds=${rounds})`;
  const script = `import sys, passlib.hash as h; print(h.${algorithm}${using}.hash(sys.stdin.read()))`;
  return run('/usr/bin/python3', ['-c', script], password);
}
