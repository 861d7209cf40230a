// Two r2d2 servers (spawned: supervisor, engine, worker threads) on one maildir with
// maildrop_lock { backend = database }: a maildrop open on one is [IN-USE] on the other; kill -9
// of one, and the other serves its maildrops once the lease has run out; a session whose lease
// was taken (the row changed under it) answers QUIT with -ERR [SYS/TEMP] and deletes nothing; and
// a database section with two hosts whose first one goes away and comes back; check-config and
// the lease table. Real MariaDB.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { createLeaseTable, expireLeases, LEASE_TABLE, leaseRows } from '../helpers/lease';
import { MailRoot, putMessage, sampleMessage } from '../helpers/maildir';
import { MARIADB, TestDatabase } from '../helpers/mariadb';
import { Pop3Client, type Response } from '../helpers/pop3-client';
import { run } from '../helpers/run';
import { SpawnedServer, spawnedConfig, spawnedConfigOf } from '../helpers/spawned-server';
import { TcpProxy } from '../helpers/tcp-proxy';
import { databaseAndMail, tempDir } from '../helpers/test-resources';

const LEASE = 'maildrop_lock { backend = database  lease = 3 }';
const R2D2 = join(__dirname, '../../../bin/r2d2');

async function setup(t: Test): Promise<{ db: TestDatabase; mail: MailRoot; md: string; files: string[] }> {
  const { db, mail } = await databaseAndMail(t);
  await createLeaseTable(db);
  const md = mail.maildir('alice');
  const files = [0, 1, 2].map((i) => putMessage(md, sampleMessage(i)));
  await db.addUser('alice', 'pw', md);
  return { db, mail, md, files };
}

async function login(port: number): Promise<{ client: Pop3Client; reply: Response }> {
  const { client } = await Pop3Client.greeted(port);
  return { client, reply: await client.login('alice', 'pw') };
}

/** Logs in again and again (each refusal ends its connection) until a login succeeds. */
async function loginWhenFree(port: number): Promise<{ client: Pop3Client; refusals: string[] }> {
  const refusals: string[] = [];
  while (refusals.length < 400) {
    const { client, reply } = await login(port);
    if (reply.ok) return { client, refusals };
    refusals.push(reply.text);
    await client.cmd('QUIT');
    client.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the maildrop never became free');
}

t.test('two servers on one maildir: [IN-USE] across them, a stolen lease deletes nothing, kill -9 frees it after the lease', async (t) => {
  const { db, mail, md, files } = await setup(t);
  const a = await SpawnedServer.start(t, spawnedConfig(db.name, mail.path, LEASE, 1));
  const b = await SpawnedServer.start(t, spawnedConfig(db.name, mail.path, LEASE, 1));

  t.test('[IN-USE] on the other server while one holds it; free once it quits', async (t) => {
    const first = await login(a.port());
    t.ok(first.reply.ok, first.reply.text);
    const second = await login(b.port());
    t.same(second.reply, { ok: false, text: '[IN-USE] maildrop is locked by another session' });
    const third = await login(a.port());
    t.notOk(third.reply.ok, 'the same server, another session: in use too');
    for (const c of [second.client, third.client]) c.destroy();
    t.same((await first.client.cmd('QUIT')).ok, true);
    first.client.destroy();
    const again = await login(b.port());
    t.ok(again.reply.ok, 'free on the other server after QUIT');
    t.equal((await leaseRows(db)).length, 1);
    await again.client.cmd('QUIT');
    again.client.destroy();
    t.same(await leaseRows(db), [], 'QUIT released the lease');
  });

  t.test('a lease that expired but was not taken is confirmed at QUIT: the deletion is applied', async (t) => {
    const { client, reply } = await login(a.port());
    t.ok(reply.ok);
    t.ok((await client.cmd('DELE 1')).ok);
    await expireLeases(db);
    const quit = await client.cmd('QUIT');
    t.match(quit, { ok: true, text: 'r2d2 signing off (1 message deleted)' });
    t.notOk(existsSync(join(md, 'new', files[0] ?? '')), 'message 1 removed');
    client.destroy();
  });

  t.test('a lease taken by another holder: QUIT answers -ERR [SYS/TEMP] and deletes nothing', async (t) => {
    const { client, reply } = await login(a.port());
    t.ok(reply.ok);
    const before = readdirSync(join(md, 'new')).sort();
    t.ok((await client.cmd('DELE 1')).ok);
    t.ok((await client.cmd('DELE 2')).ok);
    // The row expires and another host takes it, as after a partition longer than the lease.
    await expireLeases(db);
    await db.query(`UPDATE \`${db.name}\`.${LEASE_TABLE} SET token = REPEAT('f', 32), holder_host = 'mx9', expires_at = UTC_TIMESTAMP(6) + INTERVAL 60 SECOND`);
    const quit = await client.cmd('QUIT');
    t.same(quit, { ok: false, text: '[SYS/TEMP] maildrop lock lost: no messages deleted, try again' });
    client.destroy();
    t.same(readdirSync(join(md, 'new')).sort(), before, 'no message removed');
    await a.waitFor(/maildrop lock lost: no message deleted/);
    t.same((await leaseRows(db)).map((r) => r.holder_host), ['mx9'], "the thief's lease is left alone");
    await db.query(`DELETE FROM \`${db.name}\`.${LEASE_TABLE}`);
  });

  t.test('once a renewal finds the lease taken, the session serves nothing more from the maildrop', async (t) => {
    const { client, reply } = await login(a.port());
    t.ok(reply.ok);
    t.ok((await client.cmd('DELE 1')).ok);
    const lostBefore = a.count(/maildrop lease lost/);
    await expireLeases(db);
    await db.query(`UPDATE \`${db.name}\`.${LEASE_TABLE} SET token = REPEAT('e', 32), holder_host = 'mx8', expires_at = UTC_TIMESTAMP(6) + INTERVAL 60 SECOND`);
    // The next renewal (every lease/3 = 1 s) finds the row taken and says so.
    for (let i = 0; i < 200 && a.count(/maildrop lease lost/) === lostBefore; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    t.same(await client.cmd('RETR 2'), { ok: false, text: '[SYS/TEMP] maildrop lock lost: log in again' });
    t.same(await client.cmd('QUIT'), { ok: false, text: '[SYS/TEMP] maildrop lock lost: no messages deleted, try again' });
    client.destroy();
    await db.query(`DELETE FROM \`${db.name}\`.${LEASE_TABLE}`);
  });

  t.test('r2d2 maildir fix -p takes the same lease: it waits for a session on any server', async (t) => {
    writeFileSync(join(md, 'new', '1700000000.M1P1.mx1'), 'Subject: no size in my name\n\nhi\n');
    const { client, reply } = await login(b.port());
    t.ok(reply.ok);
    const busy = await run(R2D2, ['maildir', 'fix', '--wait', '0', '-p', a.dir, md]);
    t.equal(busy.code, 75, busy.stderr);
    t.match(busy.stderr, /the maildrop is locked by a POP3 session; nothing was renamed/);
    await client.cmd('QUIT');
    client.destroy();
    const fixed = await run(R2D2, ['maildir', 'fix', '--wait', '0', '-p', a.dir, md]);
    t.equal(fixed.code, 0, fixed.stderr);
    t.match(fixed.stdout.toString(), /1 renamed/);
    t.same(await leaseRows(db), [], 'its lease released');
  });

  t.test('kill -9 of the server holding it: the other serves it once the lease runs out', async (t) => {
    const { client, reply } = await login(a.port());
    t.ok(reply.ok);
    t.ok((await client.cmd('DELE 1')).ok, 'marked, never applied: the session dies before QUIT');
    const count = readdirSync(join(md, 'new')).length;
    process.kill(a.enginePid(), 'SIGKILL');
    a.child.kill('SIGKILL');
    await a.exited;
    const { client: other, refusals } = await loginWhenFree(b.port());
    t.ok(refusals.length > 0, `refused ${refusals.length} times until the dead server's lease ran out`);
    t.same(new Set(refusals), new Set(['[IN-USE] maildrop is locked by another session']), 'each time: in use');
    const stat = await other.cmd('STAT');
    t.equal(stat.text.split(' ')[0], String(count), 'every message is still there');
    await other.cmd('QUIT');
    other.destroy();
    client.destroy();
  });
});

t.test('database hosts: the first goes away, logins and leases use the next; it comes back', async (t) => {
  const { db, mail } = await setup(t);
  const first = new TcpProxy(MARIADB.host, MARIADB.port);
  await first.start();
  t.teardown(() => first.stop());
  const c11n = spawnedConfigOf({
    maildirRoot: mail.path,
    accounts: `hosts = { "127.0.0.1:${first.port}", "${MARIADB.host}:${MARIADB.port}" }
  user = "${MARIADB.user}"  password = "${MARIADB.password}"  database = "${db.name}"  connect_timeout = 2`,
    extra: LEASE,
    threads: 1,
  });
  const server = await SpawnedServer.start(t, c11n);
  const session = async (): Promise<void> => {
    const { client, reply } = await login(server.port());
    t.ok(reply.ok, reply.text);
    t.ok((await client.cmd('QUIT')).ok);
    client.destroy();
  };
  await session();
  t.ok(first.accepted > 0, 'the first host serves while it is up');
  await first.stop();
  for (let i = 0; i < 3; i++) await session();
  await server.waitFor(/database server failed; using \S+:\d+/);
  const whileDown = first.accepted;
  await first.start();
  await server.waitFor(/database server answers again/, 30_000);
  await session();
  t.ok(first.accepted > whileDown, 'back on the first host once it answers again');
  t.same(await leaseRows(db), [], 'every lease released');
});

t.test('check-config prepares the lease statements: a missing table or grant fails it, with the fix named', async (t) => {
  const db = await TestDatabase.create();
  t.teardown(() => db.drop());
  const dir = tempDir(t, 'r2d2-lease-check-');
  const lockUser = `r2d2_lock_${db.name.slice(-8)}`;
  t.teardown(() => db.query(`DROP USER IF EXISTS '${lockUser}'@'%'`));
  const check = (extra: string) => {
    writeFileSync(join(dir, 'c11n'), spawnedConfig(db.name, dir, extra, 1));
    return run(R2D2, ['check-config', '-p', dir]);
  };
  const missing = await check(LEASE);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /^maildrop_lock: database "accounts" rejects the lease statements on r2d2_maildrop_lock: Table '\S+\.r2d2_maildrop_lock' doesn't exist \(the table and its grants: personality\/maildrop-lock\.sql\)\n$/);
  await createLeaseTable(db);
  const good = await check(LEASE);
  t.equal(good.code, 0, good.stderr);
  // A lease user allowed SELECT only (as accounts users often are) is refused at once.
  await db.query(`CREATE USER '${lockUser}'@'%' IDENTIFIED BY 'pw'`);
  await db.query(`GRANT SELECT ON \`${db.name}\`.* TO '${lockUser}'@'%'`);
  const locks = `database "locks" { host = "${MARIADB.host}"  port = ${MARIADB.port}  user = "${lockUser}"  password = "pw"  database = "${db.name}" }
accounts_database = accounts
maildrop_lock { backend = database  database = locks }`;
  const readOnly = await check(locks);
  t.equal(readOnly.code, 2);
  t.match(readOnly.stderr, /rejects the lease statements on r2d2_maildrop_lock: INSERT, UPDATE command denied/);
  await db.query(`GRANT INSERT, UPDATE, DELETE ON \`${db.name}\`.r2d2_maildrop_lock TO '${lockUser}'@'%'`);
  const granted = await check(locks);
  t.equal(granted.code, 0, granted.stderr);
});
