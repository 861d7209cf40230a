// RFC 2449 LOGIN-DELAY through real sockets and a real MariaDB: the server's default and the
// query's login_delay column, CAPA before and after login, [LOGIN-DELAY] refusals, and the
// last-login time kept through last_login_query_format_string (seen by a second server that
// shares no memory with the first) or read from the table as the operator set it.
import t from 'tap';
import { authTest } from '../../src/cli/auth-command';
import { parseConfigText } from '../../src/config/load';
import { fixture, type Fixture } from '../helpers/fixture';
import { addAppPassword, addMailbox, usePostfixAdminTables } from '../helpers/postfixadmin';
import { startTestServer, testConfigText } from '../helpers/test-server';
import { Pop3Client } from '../helpers/pop3-client';

const QUERY =
  'SELECT maildir, login_delay, UNIX_TIMESTAMP(last_login) AS last_login FROM mailbox WHERE username = %u AND password = SHA2(%p, 256) AND active = 1';
const RECORD = 'UPDATE mailbox SET last_login = NOW() WHERE username = %u';

async function withPolicyColumns(f: Fixture): Promise<void> {
  await f.db.query(`ALTER TABLE \`${f.db.name}\`.mailbox ADD login_delay INT NULL, ADD last_login DATETIME NULL`);
}

const policyLines = (lines: readonly string[] | undefined): string[] => (lines ?? []).filter((l) => /^(LOGIN-DELAY|EXPIRE)\b/.test(l));

async function lastLoginAge(f: Fixture, user: string): Promise<number | null> {
  const rows = (await f.db.query(`SELECT TIMESTAMPDIFF(SECOND, last_login, NOW()) AS age FROM \`${f.db.name}\`.mailbox WHERE username = ?`, [user])) as Array<{ age: number | null }>;
  return rows[0]?.age ?? null;
}

t.test('last_login through the query: written at login, read back by another server; refused, then allowed once it is old enough', async (t) => {
  const extra = `policy { login_delay = 900 }\nlast_login_query_format_string = "${RECORD}"`;
  const f = await fixture(t, { query: QUERY, extra });
  await withPolicyColumns(f);
  await f.db.addUser('alice', 'pw', f.mail.maildir('alice'));
  await f.db.addUser('quick', 'pw', f.mail.maildir('quick'));
  await f.db.query(`UPDATE \`${f.db.name}\`.mailbox SET login_delay = 60 WHERE username = 'quick'`);

  const a = await f.client();
  t.same(policyLines((await a.cmd('CAPA')).lines), ['LOGIN-DELAY 900 USER'], 'before login: the default, per user');
  t.same(await a.login('alice', 'pw'), { ok: true, text: 'alice has 0 messages (0 octets)' });
  t.same(policyLines((await a.cmd('CAPA')).lines), ['LOGIN-DELAY 900'], "after login: alice's value");
  const age = await lastLoginAge(f, 'alice');
  t.ok(age !== null && age >= 0 && age < 60, `last_login written by the UPDATE (${age} s ago)`);
  await a.cmd('QUIT');

  const q = await f.loggedIn('quick', 'pw');
  t.same(policyLines((await q.cmd('CAPA')).lines), ['LOGIN-DELAY 60'], "quick's own login_delay column");
  await q.cmd('QUIT');
  const tested = await authTest(f.server.config, 'quick', 'pw', '127.0.0.1');
  t.match(tested.text, /^ok: .*; login delay 60 s, last login \d{4}-\d\d-\d\dT[\d:.]+Z$/, 'r2d2 auth test shows the policy it would apply');

  // Another server on the same table: it shares no memory with the first, only the database.
  const other = await startTestServer({ database: f.db.name, maildirRoot: f.mail.path, query: QUERY, extra });
  t.teardown(() => other.close());
  const { client: b } = await Pop3Client.greeted(other.port);
  t.teardown(() => b.destroy());
  const refused = await b.login('alice', 'pw');
  t.equal(refused.ok, false);
  t.match(refused.text, /^\[LOGIN-DELAY\] too soon after the previous login: try again in (8[4-9]\d|900) seconds$/, 'refused: the last login is in the table');
  await other.waitForLine(/login refused: login delay user="alice"/);
  t.same(await b.login('alice', 'wrong'), { ok: false, text: '[AUTH] Authentication failed' }, 'a wrong password is [AUTH], as always');
  t.equal((await lastLoginAge(f, 'alice') ?? -1) < 60, true, 'a refused login writes nothing');

  await f.db.query(`UPDATE \`${f.db.name}\`.mailbox SET last_login = NOW() - INTERVAL 901 SECOND WHERE username = 'alice'`);
  t.same(await b.login('alice', 'pw'), { ok: true, text: 'alice has 0 messages (0 octets)' }, '901 s later by the table: allowed');
  await b.cmd('QUIT');
  const c = await f.client();
  t.match((await c.login('alice', 'pw')).text, /^\[LOGIN-DELAY\]/, 'and that login is in the table for the first server too');
});

t.test('a DATETIME last_login column is read as it is; without a last-login query the host memory keeps the time', async (t) => {
  const query = 'SELECT maildir, last_login FROM mailbox WHERE username = %u AND password = SHA2(%p, 256) AND active = 1';
  const f = await fixture(t, { query, extra: 'policy { login_delay = 900 }' });
  await withPolicyColumns(f);
  await f.db.addUser('dt', 'pw', f.mail.maildir('dt'));
  await f.db.addUser('mem', 'pw', f.mail.maildir('mem'));
  await f.db.query(`UPDATE \`${f.db.name}\`.mailbox SET last_login = NOW() - INTERVAL 100 SECOND WHERE username = 'dt'`);
  const a = await f.client();
  t.same(policyLines((await a.cmd('CAPA')).lines), ['LOGIN-DELAY 900'], 'no login_delay column: no USER');
  t.match((await a.login('dt', 'pw')).text, /^\[LOGIN-DELAY\] .* in (79\d|80\d) seconds$/, 'last_login 100 s ago in a DATETIME');
  t.ok((await a.login('mem', 'pw')).ok, 'never logged in');
  await a.cmd('QUIT');
  const b = await f.client();
  t.match((await b.login('mem', 'pw')).text, /^\[LOGIN-DELAY\]/, 'the host remembers the login: no query writes it');
  t.equal(await lastLoginAge(f, 'mem'), null, 'and the table is untouched');
});

t.test('a last-login UPDATE that fails is logged and the login stands', async (t) => {
  const f = await fixture(t, { query: QUERY, extra: `policy { login_delay = 10 }\nlast_login_query_format_string = "${RECORD}"` });
  await withPolicyColumns(f);
  await f.db.addUser('ro', 'pw', f.mail.maildir('ro'));
  await f.db.query(
    "CREATE TRIGGER no_update BEFORE UPDATE ON mailbox FOR EACH ROW IF NEW.username = 'ro' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'read-only account'; END IF",
  );
  const a = await f.client();
  t.same(await a.login('ro', 'pw'), { ok: true, text: 'ro has 0 messages (0 octets)' });
  await f.server.waitForLine(/last login not recorded user="ro" error="read-only account"/);
});

t.test('PostfixAdmin tables: policy columns beside hashes verified by r2d2 and app passwords', async (t) => {
  const query =
    'SELECT m.username, m.maildir, m.password, NULL AS app_password, m.login_delay, UNIX_TIMESTAMP(m.last_login) AS last_login FROM mailbox m WHERE m.username = %u AND m.active = 1 ' +
    'UNION ALL SELECT m.username, m.maildir, a.password_hash, a.id, m.login_delay, UNIX_TIMESTAMP(m.last_login) FROM mailbox_app_password a JOIN mailbox m ON m.username = a.username WHERE a.username = %u AND m.active = 1';
  const f = await fixture(t, { query, extra: `last_login_query_format_string = "${RECORD}"` });
  await usePostfixAdminTables(f.db);
  await f.db.query('ALTER TABLE mailbox ADD login_delay INT NULL, ADD last_login DATETIME NULL');
  f.mail.maildir(await addMailbox(f.db, 'john@example.com', '{PLAIN}main'));
  await addAppPassword(f.db, 'john@example.com', 'phone', '{PLAIN}phone');
  await f.db.query("UPDATE mailbox SET login_delay = 300 WHERE username = 'john@example.com'");
  const a = await f.client();
  t.same(policyLines((await a.cmd('CAPA')).lines), ['LOGIN-DELAY 0 USER'], 'no default: 0, varying per user');
  t.ok((await a.login('john@example.com', 'phone')).ok, 'an app password logs in');
  t.same(policyLines((await a.cmd('CAPA')).lines), ['LOGIN-DELAY 300']);
  await a.cmd('QUIT');
  const b = await f.client();
  t.match((await b.login('john@example.com', 'main')).text, /^\[LOGIN-DELAY\]/, 'the account, not the password, is delayed');
});

t.test('check-config: a last-login query needs a last_login column, and may not send %p', async (t) => {
  const text = (query: string, extra: string): string => testConfigText({ database: 'mail', query, extra });
  t.throws(() => parseConfigText(text('SELECT maildir FROM mailbox WHERE username = %u', `last_login_query_format_string = "${RECORD}"`), '/tmp', {}, 1), {
    message: /c11n:\d+:\d+: last_login_query_format_string needs maildrop_query_format_string to return a last_login column/,
  });
  t.throws(() => parseConfigText(text(QUERY, 'last_login_query_format_string = "UPDATE mailbox SET last_login = NOW(), note = %p"'), '/tmp', {}, 1), {
    message: /unknown substitution "%p"/,
  });
  t.throws(() => parseConfigText(text(QUERY, 'policy { expire = soon }'), '/tmp', {}, 1), { message: /"expire" must be a number of days \(0 to 36500\) or never, got "soon"/ });
  t.throws(() => parseConfigText(text(QUERY, 'policy { login_delay = -1 }'), '/tmp', {}, 1), { message: /"login_delay" must be between 0 and/ });
  const ok = parseConfigText(text(QUERY, `policy { expire = NEVER }\nlast_login_query_format_string = "${RECORD}"`), '/tmp', {}, 1);
  t.same(ok.policy, { loginDelaySeconds: 0, expire: 'never', loginDelayPerUser: true, expirePerUser: false, lastLoginColumn: true, lastLoginQuery: RECORD });
});
