// check-config (and serve) prepare every configured query on its database: one the database
// rejects fails the start with its own words; a database that is down is a warning. Also: a uid
// that is root counts as root. Real `r2d2` processes, real MariaDB.
import t, { type Test } from 'tap';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAILBOX_QUERY, MARIADB, TestDatabase } from '../helpers/mariadb';
import { freePort } from '../helpers/ports';
import { run } from '../helpers/run';
import { SpawnedServer } from '../helpers/spawned-server';

const R2D2 = join(__dirname, '../../../bin/r2d2');

async function personality(t: Test) {
  const db = await TestDatabase.create();
  const dir = mkdtempSync(join(tmpdir(), 'r2d2-check-'));
  t.teardown(async () => {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });
  const c11n = (o: { query?: string; port?: number; extra?: string; root?: string } = {}): string => `
${o.root ?? 'executes_as_root = yes'}
threads = 1
maildrop_query_format_string = "${o.query ?? MAILBOX_QUERY}"
listen "pop3" { address = "127.0.0.1"  port = 0 }
database "accounts" {
  host = "${MARIADB.host}"  port = ${o.port ?? MARIADB.port}  user = "${MARIADB.user}"  password = "${MARIADB.password}"
  database = "${db.name}"  connect_timeout = 2
}
${o.extra ?? ''}
`;
  const check = (text: string) => {
    writeFileSync(join(dir, 'c11n'), text);
    return run(R2D2, ['check-config', '-p', dir]);
  };
  return { dir, c11n, check };
}

t.test('a maildrop query the database rejects fails check-config with the key and the database message', async (t) => {
  const { c11n, check } = await personality(t);
  const good = await check(c11n());
  t.equal(good.code, 0, good.stderr);
  t.equal(good.stderr, '', 'no warning');
  const bad = await check(c11n({ query: 'SELECT maildirx FROM mailbox WHERE username = %u AND password = SHA2(%p, 256)' }));
  t.equal(bad.code, 2);
  t.match(bad.stderr, /^maildrop_query_format_string: database "accounts" rejects the query: Unknown column 'maildirx' in '[^']+'\n$/);
  const table = await check(c11n({ query: 'SELECT maildir FROM mailboxes WHERE username = %u' }));
  t.equal(table.code, 2);
  t.match(table.stderr, /maildrop_query_format_string: database "accounts" rejects the query: Table '\S+\.mailboxes' doesn't exist/);
});

t.test("the deliver section's queries are prepared too", async (t) => {
  const { c11n, check } = await personality(t);
  const good = await check(c11n({ extra: 'deliver { recipient_query_format_string = "SELECT maildir, quota FROM mailbox WHERE username = %u" }' }));
  t.equal(good.code, 0, good.stderr);
  const bad = await check(
    c11n({
      extra: `deliver {
  recipient_query_format_string = "SELECT maildir FROM mailbox WHERE username = %u"
  domain_query_format_string = "SELECT 1 FROM domains WHERE domain = %d"
}`,
    }),
  );
  t.equal(bad.code, 2);
  t.match(bad.stderr, /^deliver\.domain_query_format_string: database "accounts" rejects the query: Table '\S+\.domains' doesn't exist\n$/);
});

t.test("the oauth2 section's query is prepared too", async (t) => {
  const { dir, c11n, check } = await personality(t);
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [{ kty: 'RSA', kid: 'k1', n: 'sXch', e: 'AQAB' }] }));
  const section = (query: string): string => `oauth2 { jwks = jwks.json  issuer = "https://sso.example.com"  audience = pop3  maildrop_query_format_string = "${query}" }`;
  const good = await check(c11n({ extra: section('SELECT maildir FROM mailbox WHERE username = %u AND active = 1') }));
  t.equal(good.code, 0, good.stderr);
  const bad = await check(c11n({ extra: section('SELECT maildir FROM mailbox WHERE login = %u') }));
  t.equal(bad.code, 2);
  t.match(bad.stderr, /^oauth2\.maildrop_query_format_string: database "accounts" rejects the query: Unknown column 'login' in '[^']+'\n$/);
  const password = await check(c11n({ extra: section('SELECT maildir FROM mailbox WHERE username = %u AND password = SHA2(%p, 256)') }));
  t.equal(password.code, 2);
  t.match(password.stderr, /c11n:\d+:\d+: "maildrop_query_format_string" must not use %p: a token login has no password/);
});

t.test('a database that is down is a warning: check-config exits 0, serve starts', async (t) => {
  const { dir, c11n, check } = await personality(t);
  const closed = await freePort();
  const down = await check(c11n({ port: closed }));
  t.equal(down.code, 0, down.stderr);
  t.match(down.stdout.toString(), /c11n: ok/);
  t.match(down.stderr, new RegExp(`^warning: database "accounts" \\(127\\.0\\.0\\.1:${closed}\\) cannot be reached: .*ECONNREFUSED.*; not checked: maildrop_query_format_string\\n$`));
  const server = await SpawnedServer.start(t, c11n({ port: closed }));
  t.match(server.text, /cannot be reached/, 'serve logs the warning and goes on to "engine ready"');
  t.ok(dir.length > 0);
});

t.test('serve refuses a query the database rejects, before binding', async (t) => {
  const { dir, c11n } = await personality(t);
  writeFileSync(join(dir, 'c11n'), c11n({ query: 'SELECT nope FROM mailbox WHERE username = %u' }));
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  const r = await run(R2D2, ['serve', '-p', dir], { env });
  t.equal(r.code, 2);
  t.match(r.stderr, /^maildrop_query_format_string: database "accounts" rejects the query: Unknown column 'nope'/);
  t.notMatch(r.stdout.toString(), /listening on/);
});

t.test('uid = 0 or a name of uid 0 counts as root: refused unless executes_as_root', { skip: process.getuid?.() === 0 ? false : 'needs root' }, async (t) => {
  const { c11n, check } = await personality(t);
  for (const uid of ['0', 'root']) {
    const r = await check(c11n({ root: `uid = ${uid}\ngid = 0` }));
    t.equal(r.code, 2, `uid = ${uid}`);
    t.match(r.stderr, new RegExp(`^refusing to run sessions as root: uid "${uid}" is root \\(uid 0\\)`));
    const allowed = await check(c11n({ root: `uid = ${uid}\ngid = 0\nexecutes_as_root = yes` }));
    t.equal(allowed.code, 0, allowed.stderr);
  }
  const nobody = await check(c11n({ root: 'uid = nobody\ngid = nogroup' }));
  t.equal(nobody.code, 0, nobody.stderr);
});

t.test('started as a service user (systemd User=), sessions run as that user: a uid naming another is refused', { skip: process.getuid?.() === 0 ? false : 'needs root' }, async (t) => {
  const { dir, c11n } = await personality(t);
  chmodSync(dir, 0o755);
  const asNobody = async (root: string) => {
    writeFileSync(join(dir, 'c11n'), c11n({ root }), { mode: 0o644 });
    return run('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, R2D2, 'check-config', '-p', dir]);
  };
  const none = await asNobody('');
  t.equal(none.code, 0, none.stderr);
  const self = await asNobody('uid = nobody\ngid = nogroup');
  t.equal(self.code, 0, `naming the user it runs as is fine: ${self.stderr}`);
  const other = await asNobody('uid = mail\ngid = mail');
  t.equal(other.code, 2);
  t.match(other.stderr, /^uid "mail", gid "mail": r2d2 runs as uid \d+, not root, so its sessions cannot change user; drop uid and gid from c11n/);
});

t.test('SQLite too: the query is prepared (with the SHA2() the accounts store provides)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'r2d2-check-sqlite-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(join(dir, 'accounts.db'));
  db.exec('CREATE TABLE mailbox (username TEXT, password TEXT, maildir TEXT, active INTEGER)');
  db.close();
  const check = (query: string) => {
    writeFileSync(
      join(dir, 'c11n'),
      `executes_as_root = yes\nmaildrop_query_format_string = "${query}"\nlisten "pop3" { address = "127.0.0.1"  port = 0 }\ndatabase "accounts" { driver = sqlite  file = "accounts.db" }\n`,
    );
    return run(R2D2, ['check-config', '-p', dir]);
  };
  const good = await check(MAILBOX_QUERY);
  t.equal(good.code, 0, good.stderr);
  const bad = await check('SELECT maildirx FROM mailbox WHERE username = %u');
  t.equal(bad.code, 2);
  t.match(bad.stderr, /^database "accounts": no such column: maildirx\n$|^maildrop_query_format_string: database "accounts" rejects the query: no such column: maildirx\n$/);
});
