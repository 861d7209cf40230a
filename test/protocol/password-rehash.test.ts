// passwords.rehash_to: a main-password login with a weaker hash rewrites it in the
// background through rehash_query_format_string; app passwords and failed updates leave
// the stored values as they were, and the login stands.
import { createHash } from 'node:crypto';
import { hashSync as bcryptHashSync } from '@node-rs/bcrypt';
import t from 'tap';
import { fixture, type Fixture } from '../helpers/fixture';
import { addAppPassword, addMailbox, Doveadm, openssl, POSTFIXADMIN_QUERY, POSTFIXADMIN_REHASH, usePostfixAdminTables } from '../helpers/postfixadmin';

const PASSWORD = 'correct horse';

async function rehashing(t: Parameters<typeof fixture>[0], to: string): Promise<Fixture> {
  const f = await fixture(t, {
    query: POSTFIXADMIN_QUERY,
    extra: `passwords { allow_weak_schemes = yes  rehash_to = ${to} }\nrehash_query_format_string = "${POSTFIXADMIN_REHASH}"`,
  });
  await usePostfixAdminTables(f.db);
  return f;
}

async function mailbox(f: Fixture, user: string, hash: string): Promise<void> {
  f.mail.maildir(await addMailbox(f.db, user, hash));
}

async function stored(f: Fixture, user: string): Promise<string> {
  const rows = (await f.db.query('SELECT password FROM mailbox WHERE username = ?', [user])) as Array<{ password: string }>;
  return rows[0]?.password ?? '';
}

async function loginAndQuit(f: Fixture, user: string, password: string): Promise<boolean> {
  const c = await f.client();
  const ok = (await c.login(user, password)).ok;
  if (ok) await c.cmd('QUIT');
  return ok;
}

t.test('a $1$ user logs in, the row then holds {ARGON2ID}..., and the next login works', async (t) => {
  const doveadm = new Doveadm();
  t.teardown(() => doveadm.remove());
  const f = await rehashing(t, 'ARGON2ID');
  const old = openssl('-1', PASSWORD);
  await mailbox(f, 'old@example.com', old);
  t.ok(await loginAndQuit(f, 'old@example.com', PASSWORD), 'logs in with the $1$ hash');
  await f.server.waitForLine(/password rehashed user="old@example.com" from="MD5-CRYPT" to="ARGON2ID"/);
  const now = await stored(f, 'old@example.com');
  t.match(now, /^\{ARGON2ID\}\$argon2id\$v=19\$m=65536,t=3,p=1\$/);
  t.ok(doveadm.verifies(now, PASSWORD), 'Dovecot accepts the new hash');
  t.ok(await loginAndQuit(f, 'old@example.com', PASSWORD), 'the next login works');
  t.notOk(await loginAndQuit(f, 'old@example.com', 'wrong'), 'and a wrong password still fails');
  t.notOk(f.server.lines.some((l) => l.includes(PASSWORD) || l.includes(old) || l.includes(now)), 'neither password nor hashes in the log');
});

t.test('same scheme with lower costs is rehashed; equal costs and app passwords are not', async (t) => {
  const doveadm = new Doveadm();
  t.teardown(() => doveadm.remove());
  const f = await rehashing(t, 'BLF-CRYPT');
  const cheap = doveadm.hash('BLF-CRYPT', PASSWORD); // Dovecot writes cost 5
  const strong = '{BLF-CRYPT}' + bcryptHashSync(PASSWORD, 12);
  const app = doveadm.hash('SSHA512', 'app secret');
  await mailbox(f, 'cheap@example.com', cheap);
  await mailbox(f, 'strong@example.com', strong);
  await mailbox(f, 'apps@example.com', doveadm.hash('MD5-CRYPT', PASSWORD));
  await addAppPassword(f.db, 'apps@example.com', 'phone', app);
  t.ok(await loginAndQuit(f, 'strong@example.com', PASSWORD));
  t.ok(await loginAndQuit(f, 'apps@example.com', 'app secret'), 'the app password logs in');
  t.ok(await loginAndQuit(f, 'cheap@example.com', PASSWORD));
  await f.server.waitForLine(/password rehashed user="cheap@example.com" from="BLF-CRYPT" to="BLF-CRYPT"/);
  t.match(await stored(f, 'cheap@example.com'), /^\{BLF-CRYPT\}\$2y\$10\$/);
  // Closing the server waits for rewrites under way: after it, none can still come.
  await f.server.server.close();
  t.equal(await stored(f, 'strong@example.com'), strong, 'cost 12 is not weaker than 10: kept');
  const rows = (await f.db.query('SELECT password_hash FROM mailbox_app_password')) as Array<{ password_hash: string }>;
  t.same(rows.map((r) => r.password_hash), [app], 'the app password row is never rewritten');
  t.match(await stored(f, 'apps@example.com'), /^\{MD5-CRYPT\}/, 'nor the main row, by an app-password login');
  t.notOk(f.server.lines.some((l) => /rehash/.test(l) && /strong@|apps@/.test(l)), 'no rehash logged for them');
});

t.test('a failed update is logged; the login stands and the old hash keeps working', async (t) => {
  const f = await rehashing(t, 'SHA512-CRYPT');
  await mailbox(f, 'stuck@example.com', `{SSHA256}${sha256Salted(PASSWORD, 'salt').toString('base64')}`);
  await f.db.query(
    "CREATE TRIGGER no_update BEFORE UPDATE ON mailbox FOR EACH ROW IF NEW.username = 'stuck@example.com' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'read-only account'; END IF",
  );
  const before = await stored(f, 'stuck@example.com');
  t.ok(await loginAndQuit(f, 'stuck@example.com', PASSWORD), 'the login stands');
  await f.server.waitForLine(/password rehash failed user="stuck@example.com" from="SSHA256" to="SHA512-CRYPT" error="read-only account"/);
  t.equal(await stored(f, 'stuck@example.com'), before, 'the row is unchanged');
  t.ok(await loginAndQuit(f, 'stuck@example.com', PASSWORD), 'the next login works');
});

/** {SSHA256} as RFC 2307 / Dovecot write it: SHA-256(password + salt) followed by the salt. */
function sha256Salted(password: string, salt: string): Buffer {
  return Buffer.concat([createHash('sha256').update(password).update(salt).digest(), Buffer.from(salt)]);
}
