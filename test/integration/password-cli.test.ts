// `r2d2 pw` (Dovecot's doveadm pw -t verifies what it prints), `r2d2 auth test` through the
// shipped PostfixAdmin module against MariaDB, and check-config's %p rule. Passwords travel on
// standard input only.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { TestDatabase, MARIADB } from '../helpers/mariadb';
import { addAppPassword, addMailbox, Doveadm, openssl, usePostfixAdminTables } from '../helpers/postfixadmin';
import { run } from '../helpers/run';
import { databaseAndMail, tempDir } from '../helpers/test-resources';

const R2D2 = join(__dirname, '../../../bin/r2d2');
const PERSONALITY = join(__dirname, '../../../personality');

t.test('r2d2 pw prints {SCHEME} hashes that doveadm pw -t verifies', async (t) => {
  const doveadm = new Doveadm();
  t.teardown(() => doveadm.remove());
  const password = 'pässwörd pw';
  for (const scheme of [undefined, 'SHA512-CRYPT', 'SHA256-CRYPT', 'BLF-CRYPT', 'ARGON2ID', 'ARGON2I', 'PBKDF2', 'SSHA512', 'SSHA256', 'SSHA', 'SHA512', 'SHA256', 'SHA256.HEX', 'SHA512.HEX', 'PLAIN', 'CRYPT', 'MD5-CRYPT', 'PLAIN-MD5', 'SHA']) {
    const args = scheme === undefined ? ['pw', '--stdin'] : ['pw', '-s', scheme, '--stdin'];
    const r = await run(R2D2, args, { input: `${password}\n` });
    const hash = r.stdout.toString().trim();
    t.equal(r.code, 0, `${scheme ?? 'default'}: exit 0`);
    t.match(hash, new RegExp(`^\\{${(scheme ?? 'ARGON2ID').replace('.', '\\.')}\\}`), `${scheme ?? 'default (ARGON2ID)'}: {SCHEME} form`);
    t.ok(doveadm.verifies(hash, password), `${scheme ?? 'default'}: doveadm pw -t verifies it`);
    t.notOk(doveadm.verifies(hash, 'other'), `${scheme ?? 'default'}: and rejects another password`);
  }
  const bad = await run(R2D2, ['pw', '-s', 'ROT13', '--stdin'], { input: 'x\n' });
  t.equal(bad.code, 2);
  t.match(bad.stderr, /unknown scheme "ROT13"/);
  const tty = await run(R2D2, ['pw']);
  t.equal(tty.code, 2, 'no terminal and no --stdin: refused');
  t.match(tty.stderr, /no terminal to ask for the password: use --stdin/);
});

function personality(t: Test, db: TestDatabase, mailRoot: string, query?: string): string {
  const dir = tempDir(t, 'r2d2-pfa-');
  mkdirSync(join(dir, 'modules'));
  writeFileSync(join(dir, 'modules/postfixadmin.c11n'), readFileSync(join(PERSONALITY, 'modules/postfixadmin.c11n')));
  const c11n = readFileSync(join(PERSONALITY, 'c11n'), 'utf8')
    .replace(/^maildrop_query_format_string = .*$/m, query === undefined ? 'include("modules/postfixadmin.c11n")' : `maildrop_query_format_string = "${query}"`)
    .replace(/^maildir_root = .*$/m, `maildir_root = ${mailRoot}`)
    .replace(/^  database = mail$/m, `  database = ${db.name}`)
    .replace(/^  port = 3306$/m, `  port = ${MARIADB.port}`);
  writeFileSync(join(dir, 'c11n'), c11n);
  return dir;
}

const env = { ...process.env, R2D2_DB_HOST: MARIADB.host, R2D2_DB_USER: MARIADB.user, R2D2_DB_PASSWORD: MARIADB.password };

t.test('r2d2 auth test runs the login path of the shipped PostfixAdmin module', async (t) => {
  const { db, mail } = await databaseAndMail(t);
  await usePostfixAdminTables(db);
  const old = openssl('-1', 'main secret');
  mail.maildir(await addMailbox(db, 'john@example.com', old));
  await addAppPassword(db, 'john@example.com', 'phone', '{PLAIN}phone secret');
  await addMailbox(db, 'ghost@example.com', '{PLAIN}x');
  const dir = personality(t, db, mail.path);
  const check = await run(R2D2, ['check-config', '-p', dir], { env });
  t.equal(check.code, 0, `check-config accepts it: ${check.stderr}`);
  const test = (user: string, password: string) => run(R2D2, ['auth', 'test', user, '-p', dir, '--stdin'], { env, input: `${password}\n` });

  const main = await test('john@example.com', 'main secret');
  t.equal(main.code, 0);
  t.equal(main.stdout.toString(), `ok: account john@example.com, main password matched; maildir ${join(mail.path, 'example.com/john')} (a maildir)\n`);
  const app = await test('john@example.com', 'phone secret');
  t.equal(app.code, 0);
  t.match(app.stdout.toString(), /^ok: account john@example.com, app password matched;/);
  const wrong = await test('john@example.com', 'nope');
  t.equal(wrong.code, 1);
  t.equal(wrong.stdout.toString(), 'denied: wrong password for john@example.com\n');
  const nobody = await test('nobody@example.com', 'nope');
  t.equal(nobody.stdout.toString(), 'denied: no such user, or a wrong password\n');
  const ghost = await test('ghost@example.com', 'x');
  t.equal(ghost.code, 0);
  t.match(ghost.stdout.toString(), /maildir .*example\.com\/ghost \(does not exist yet\)/);
  const rows = (await db.query('SELECT password FROM mailbox WHERE username = ?', ['john@example.com'])) as Array<{ password: string }>;
  t.equal(rows[0]?.password, old, 'auth test never rehashes');
  t.notOk(main.stderr.includes('main secret') || main.stdout.toString().includes('main secret'), 'the password is printed nowhere');
});

t.test('check-config refuses a query that returns a password column and sends %p', async (t) => {
  const { db, mail } = await databaseAndMail(t);
  const dir = personality(t, db, mail.path, 'SELECT maildir, password FROM mailbox WHERE username = %u AND password = %p');
  const check = await run(R2D2, ['check-config', '-p', dir], { env });
  t.equal(check.code, 2);
  t.match(check.stderr, /c11n:\d+:\d+: .*returns a password column, so r2d2 verifies the password itself: remove %p/);
});
