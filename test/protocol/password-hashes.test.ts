// Passwords verified by r2d2 against PostfixAdmin's tables in a real MariaDB, with hashes made
// by other implementations (Dovecot, OpenSSL, Apache, libxcrypt's mkpasswd, Python's passlib).
import t from 'tap';
import { parseConfigText } from '../../src/config/load';
import { fixture, type Fixture } from '../helpers/fixture';
import { testConfigText } from '../helpers/test-server';
import { addAppPassword, addMailbox, Doveadm, htpasswd, mkpasswd, openssl, passlib, POSTFIXADMIN_QUERY, usePostfixAdminTables } from '../helpers/postfixadmin';

const PASSWORD = 'pässwörd 1!';
const plain = (user: string, password: string): string => Buffer.from(`\0${user}\0${password}`).toString('base64');

async function postfixAdmin(t: Parameters<typeof fixture>[0], passwords: string, query = POSTFIXADMIN_QUERY): Promise<Fixture> {
  const f = await fixture(t, { query, extra: passwords });
  await usePostfixAdminTables(f.db);
  return f;
}

/** A PostfixAdmin mailbox with this hash, and its maildir on disk. */
async function mailbox(f: Fixture, user: string, hash: string): Promise<void> {
  const maildir = await addMailbox(f.db, user, hash);
  f.mail.maildir(maildir);
}

/** Right password by USER/PASS and by AUTH PLAIN logs in; a wrong one gets [AUTH]. */
async function logsIn(t: Parameters<typeof fixture>[0], f: Fixture, user: string, label: string): Promise<void> {
  const a = await f.client();
  t.same(await a.login(user, PASSWORD), { ok: true, text: `${user} has 0 messages (0 octets)` }, `${label}: USER/PASS`);
  await a.cmd('QUIT');
  const b = await f.client();
  t.same(await b.cmd(`AUTH PLAIN ${plain(user, PASSWORD)}`), { ok: true, text: `${user} has 0 messages (0 octets)` }, `${label}: AUTH PLAIN`);
  await b.cmd('QUIT');
  const c = await f.client();
  t.same(await c.login(user, 'pässwörd 2!'), { ok: false, text: '[AUTH] Authentication failed' }, `${label}: wrong password`);
  t.same(await c.cmd(`AUTH PLAIN ${plain(user, PASSWORD.toUpperCase())}`), { ok: false, text: '[AUTH] Authentication failed' }, `${label}: wrong by AUTH PLAIN`);
}

t.test('hashes made by doveadm, openssl, htpasswd, mkpasswd and passlib log in by USER/PASS and AUTH PLAIN', async (t) => {
  const doveadm = new Doveadm();
  t.teardown(() => doveadm.remove());
  const made: Array<[string, string]> = [
    ...['SHA512-CRYPT', 'SHA256-CRYPT', 'BLF-CRYPT', 'ARGON2ID', 'ARGON2I', 'PBKDF2', 'SSHA512', 'SSHA256', 'SSHA', 'SHA512', 'SHA256', 'PLAIN', 'SHA256.HEX', 'SHA512.HEX', 'CRYPT'].map(
      (s): [string, string] => [`doveadm ${s}`, doveadm.hash(s, PASSWORD)],
    ),
    ['openssl -5', openssl('-5', PASSWORD)],
    ['openssl -6', openssl('-6', PASSWORD)],
    ['htpasswd -B', htpasswd(PASSWORD)],
    ['mkpasswd sha-512', mkpasswd('sha-512', PASSWORD)],
    ['mkpasswd sha-256', mkpasswd('sha-256', PASSWORD)],
    ['mkpasswd bcrypt', mkpasswd('bcrypt', PASSWORD)],
    ['passlib sha512_crypt rounds=5000', passlib('sha512_crypt', PASSWORD, 5000)],
    ['passlib sha256_crypt rounds=6000', passlib('sha256_crypt', PASSWORD, 6000)],
    ['passlib ldap_salted_sha512', passlib('ldap_salted_sha512', PASSWORD)],
    ['passlib ldap_salted_sha256', passlib('ldap_salted_sha256', PASSWORD)],
    ['passlib ldap_salted_sha1', passlib('ldap_salted_sha1', PASSWORD)],
    // A bare hex value: the shipped mailbox.sql's form, read by passwords.default_scheme.
    ['passlib hex_sha256 (default_scheme)', passlib('hex_sha256', PASSWORD)],
  ];
  const f = await postfixAdmin(t, 'passwords { default_scheme = SHA256.HEX }');
  const users = made.map(([label, hash], i): [string, string, string] => [label, hash, `user${i}@example.com`]);
  for (const [, hash, user] of users) await mailbox(f, user, hash);
  for (const [label, hash, user] of users) {
    t.match(hash, /^(\{[A-Z0-9.-]+\}|\$|[0-9a-f]{64}$)/, `${label} made ${hash.slice(0, 16)}...`);
    await logsIn(t, f, user, label);
  }
  t.notOk(f.server.lines.some((l) => l.includes(PASSWORD)), 'no password in any log line');
});

t.test('weak schemes (MD5-CRYPT, PLAIN-MD5, SHA) log in only with allow_weak_schemes = yes', async (t) => {
  const doveadm = new Doveadm();
  t.teardown(() => doveadm.remove());
  const weak: Array<[string, string]> = [
    ['doveadm MD5-CRYPT', doveadm.hash('MD5-CRYPT', PASSWORD)],
    ['doveadm PLAIN-MD5', doveadm.hash('PLAIN-MD5', PASSWORD)],
    ['doveadm SHA', doveadm.hash('SHA', PASSWORD)],
    ['openssl -1', openssl('-1', PASSWORD)],
    ['mkpasswd md5crypt', mkpasswd('md5crypt', PASSWORD)],
    ['passlib md5_crypt', passlib('md5_crypt', PASSWORD)],
  ];
  const strict = await postfixAdmin(t, '');
  const lenient = await postfixAdmin(t, 'passwords { allow_weak_schemes = yes }');
  for (const [i, [label, hash]] of weak.entries()) {
    const user = `weak${i}@example.com`;
    await mailbox(strict, user, hash);
    await mailbox(lenient, user, hash);
    const c = await strict.client();
    t.same(await c.login(user, PASSWORD), { ok: false, text: '[SYS/PERM] maildrop not available' }, `${label}: refused without allow_weak_schemes`);
    await strict.server.waitForLine(new RegExp(`login refused: .*weak password scheme .*user="${user}"`));
    await logsIn(t, lenient, user, label);
  }
});

t.test('unknown schemes and malformed hashes are refused and logged; the session goes on', async (t) => {
  const f = await postfixAdmin(t, '');
  const bad: Array<[string, string, RegExp]> = [
    ['{FOO}abc', 'unknown scheme', /unknown password scheme \{FOO\}/],
    ['{SHA512-CRYPT}notacryptstring', 'scheme and value disagree', /is not a \$6\$ crypt string/],
    ['$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7', 'yescrypt (mkpasswd\'s default)', /unsupported crypt scheme \$y\$/],
    ['{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA', 'truncated Argon2', /not an Argon2 PHC string/],
    ['{SSHA}!!!not base64!!!', 'not base64', /not base64/],
    ['{SHA256}c2hvcnQ=', 'wrong length', /wrong length/],
    ['{PBKDF2}$1$salt$abc$zz', 'bad PBKDF2', /is not \$1\$salt\$rounds\$hex/],
    ['$2y$05$tooshort', 'truncated bcrypt', /not a \$2a\$\/\$2b\$\/\$2y\$ bcrypt string/],
    ['e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'bare value without default_scheme', /no \{SCHEME\} prefix/],
    ['{MD5}Xr4ilOzQ4PCOq3aQ0qbuaQ==', 'LDAP {MD5} (Dovecot reads MD5 as MD5-CRYPT)', /is not a \$1\$ crypt string/],
  ];
  for (const [i, [hash]] of bad.entries()) await mailbox(f, `bad${i}@example.com`, hash);
  await mailbox(f, 'good@example.com', `{PLAIN}${PASSWORD}`);
  const c = await f.client();
  for (const [i, [, label, reason]] of bad.entries()) {
    const user = `bad${i}@example.com`;
    t.same(await c.login(user, PASSWORD), { ok: false, text: '[SYS/PERM] maildrop not available' }, `${label}: -ERR, never +OK`);
    t.same(await c.cmd(`AUTH PLAIN ${plain(user, PASSWORD)}`), { ok: false, text: '[SYS/PERM] maildrop not available' }, `${label}: by AUTH PLAIN too`);
    await f.server.waitForLine(new RegExp(`login refused: .*${reason.source}.*user="${user}"`));
  }
  t.ok((await c.login('good@example.com', PASSWORD)).ok, 'the same session then logs in');
  t.notOk(f.server.lines.some((l) => l.includes(PASSWORD)), 'no password in any log line');
});

t.test('app passwords: any matching row logs in; rows with different maildirs are refused and logged', async (t) => {
  const doveadm = new Doveadm();
  t.teardown(() => doveadm.remove());
  const f = await postfixAdmin(t, '');
  await mailbox(f, 'john@example.com', doveadm.hash('SHA512-CRYPT', 'main password'));
  await addAppPassword(f.db, 'john@example.com', 'broken', '{NOPE}x');
  await addAppPassword(f.db, 'john@example.com', 'phone', doveadm.hash('ARGON2ID', 'phone app'));
  await addAppPassword(f.db, 'john@example.com', 'laptop', htpasswd('laptop app'));
  for (const password of ['main password', 'phone app', 'laptop app']) {
    const c = await f.client();
    t.same(await c.login('john@example.com', password), { ok: true, text: 'john@example.com has 0 messages (0 octets)' }, `"${password}" logs in`);
    await c.cmd('QUIT');
  }
  await f.server.waitForLine(/login ok, but some password values are unusable user="john@example.com" problems=".*1.*unknown password scheme \{NOPE\}/);
  const c = await f.client();
  t.same(await c.login('john@example.com', 'nothing of the sort'), { ok: false, text: '[SYS/PERM] maildrop not available' }, 'no match, one unusable: refused');
  await f.server.waitForLine(/login refused: no password matched and app password .?"1.?": unknown password scheme/);

  const twins = await postfixAdmin(t, '', 'SELECT maildir, password FROM mailbox WHERE username LIKE %u');
  await mailbox(twins, 'twin1@example.com', '{PLAIN}same');
  await mailbox(twins, 'twin2@example.com', '{PLAIN}same');
  const d = await twins.client();
  t.same(await d.login('twin%', 'same'), { ok: false, text: '[SYS/PERM] maildrop not available' }, 'two maildirs: refused');
  await twins.server.waitForLine(/login refused: query returned 2 rows with 2 different maildirs/);
});

t.test('a relative maildir resolves under maildir_root, and is refused without one', async (t) => {
  const f = await postfixAdmin(t, '');
  await mailbox(f, 'rel@example.com', `{PLAIN}${PASSWORD}`);
  const c = await f.client();
  t.ok((await c.login('rel@example.com', PASSWORD)).ok, 'example.com/rel/ under maildir_root');
  const bare = await fixture(t, { query: POSTFIXADMIN_QUERY, maildirRoot: undefined });
  await usePostfixAdminTables(bare.db);
  await addMailbox(bare.db, 'rel@example.com', `{PLAIN}${PASSWORD}`);
  const d = await bare.client();
  t.same(await d.login('rel@example.com', PASSWORD), { ok: false, text: '[SYS/PERM] maildrop not available' });
  await bare.server.waitForLine(/login refused: maildir path is not absolute \(a relative one needs maildir_root\)/);
});

t.test('a query that returns a password column and sends %p is refused at config load', async (t) => {
  const text = (query: string): string => testConfigText({ database: 'mail', query });
  t.throws(() => parseConfigText(text('SELECT maildir, password FROM mailbox WHERE username = %u AND password = %p'), '/tmp', {}, 1), {
    message: /returns a password column, so r2d2 verifies the password itself: remove %p/,
  });
  t.throws(() => parseConfigText(text('SELECT m.maildir, a.password_hash AS `password` FROM m, a WHERE u = %u AND p = %p'), '/tmp', {}, 1), {
    message: /remove %p/,
  });
  t.ok(parseConfigText(text('SELECT maildir FROM mailbox WHERE username = %u AND password = SHA2(%p, 256)'), '/tmp', {}, 1), 'checked in SQL: fine');
  t.throws(() => parseConfigText(text('SELECT maildir, password FROM mailbox WHERE username = %u') + 'passwords { rehash_to = ARGON2ID }', '/tmp', {}, 1), {
    message: /rehash_to needs rehash_query_format_string/,
  });
  t.throws(() => parseConfigText(text('SELECT maildir FROM mailbox WHERE username = %u') + 'rehash_query_format_string = "UPDATE mailbox SET password = %p"', '/tmp', {}, 1), {
    message: /unknown substitution "%p"/,
  });
});

