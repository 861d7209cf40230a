// The database backend of the maildrop lock (src/lease) against the real MariaDB: two "hosts"
// (lockers with different host names) on one maildrop, expiry by the database's clock, a lease
// taken over and the session that lost it, renewals, release by token only, a database that goes
// away for longer than a lease, and a lock file of a host still using backend = local.
import { utimesSync, writeFileSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import t, { type Test } from 'tap';
import { DatabaseLocker } from '../../src/lease/database-locker';
import type { LockAttempt, MaildropLock } from '../../src/maildrop/locker';
import { LOCK_FILE } from '../../src/maildrop/lock';
import { createLeaseTable, databaseConfig, expireLeases, LEASE_TABLE, leaseRows } from '../helpers/lease';
import { MARIADB, TestDatabase } from '../helpers/mariadb';
import { Pop3Client } from '../helpers/pop3-client';
import { TcpProxy } from '../helpers/tcp-proxy';
import { startTestServer } from '../helpers/test-server';
import { databaseAndMail } from '../helpers/test-resources';

const LEASE_MS = 3000;

async function setup(t: Test): Promise<{ db: TestDatabase; md: string }> {
  const { db, mail } = await databaseAndMail(t);
  await createLeaseTable(db);
  return { db, md: mail.maildir('alice') };
}

function locker(t: Test, db: TestDatabase, host: string, hosts?: { host: string; port: number }[], now?: () => number): DatabaseLocker {
  const l = new DatabaseLocker({ database: databaseConfig(db, hosts), leaseMs: LEASE_MS, table: LEASE_TABLE, ...(now === undefined ? {} : { now }) }, undefined, host);
  t.teardown(() => l.close());
  return l;
}

const ask = (l: DatabaseLocker, md: string, holder = 'session 1'): Promise<LockAttempt> => l.lock({ dir: md, canonical: () => realpath(md), holder, blocking: false });

function held(attempt: LockAttempt): MaildropLock {
  if (attempt.kind !== 'locked') throw new Error(`not locked: ${JSON.stringify(attempt)}`);
  return attempt.lock;
}

t.test('one holder across hosts; released by its token; the row names its holder', async (t) => {
  const { db, md } = await setup(t);
  const a = locker(t, db, 'mx1');
  const b = locker(t, db, 'mx2');
  const lease = held(await ask(a, md, 'session 7'));
  t.same(await ask(b, md), { kind: 'in-use' }, 'another host: in use');
  t.same(await ask(a, md), { kind: 'in-use' }, 'the same host, another session: in use');
  const [row] = await leaseRows(db);
  t.equal(row?.path, await realpath(md));
  t.equal(row?.holder_host, 'mx1');
  t.match(row?.holder, /^pid \d+ thread \d+ session 7$/);
  t.equal(row?.live, 1);
  t.equal(lease.lost, undefined);
  t.equal(await lease.confirm(), true);
  await lease.release();
  await lease.settled;
  t.same(await leaseRows(db), [], 'released: the row is gone');
  const next = held(await ask(b, md));
  await lease.release();
  t.equal((await leaseRows(db)).length, 1, "a second release of the first lease leaves the new holder's row alone");
  await next.release();
});

t.test('an expired lease is taken over; its old holder finds out at renewal and must not UPDATE', async (t) => {
  const { db, md } = await setup(t);
  const a = locker(t, db, 'mx1');
  const b = locker(t, db, 'mx2');
  const first = held(await ask(a, md));
  await expireLeases(db);
  const second = held(await ask(b, md));
  t.equal((await leaseRows(db))[0]?.holder_host, 'mx2', 'taken over in place');
  await a.renewAll();
  t.match(first.lost, /taken by another host/, 'the renewal finds the token gone');
  t.equal(await first.confirm(), false, 'no UPDATE for the old holder');
  await first.release();
  t.equal((await leaseRows(db))[0]?.holder_host, 'mx2', "the old holder's release does not free the new holder's lease");
  t.equal(await second.confirm(), true);
  await second.release();
});

t.test('renewals keep a lease past its term; a host cut off from the database loses it after one term, by the database clock', async (t) => {
  const { db, md } = await setup(t);
  const proxy = new TcpProxy(MARIADB.host, MARIADB.port);
  await proxy.start();
  t.teardown(() => proxy.stop());
  const a = locker(t, db, 'mx1', [{ host: '127.0.0.1', port: proxy.port }]);
  const b = locker(t, db, 'mx2');
  const lease = held(await ask(a, md));
  const expiry = async (): Promise<string> => JSON.stringify(await db.query(`SELECT expires_at FROM \`${db.name}\`.${LEASE_TABLE}`));
  const before = await expiry();
  await a.renewAll();
  t.not(await expiry(), before, 'a renewal moves the expiry');
  proxy.freeze(); // a partition: mx1's renewals reach nobody, nothing is refused
  t.same(await ask(b, md), { kind: 'in-use' }, 'within its term the lease holds');
  let taken: LockAttempt = { kind: 'in-use' };
  for (let i = 0; i < 200 && taken.kind !== 'locked'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    taken = await ask(b, md);
  }
  t.equal(taken.kind, 'locked', 'mx2 takes it once the database clock passes its expiry');
  t.match(lease.lost, /not renewed in time/, 'by then mx1 already counts it as maybe lost (its term, counted from sending, ends no later)');
  proxy.thaw();
  for (let i = 0; i < 100 && !/taken by another host/.test(lease.lost ?? ''); i++) await a.renewAll(); // a round may still be waiting on a frozen connection
  t.match(lease.lost, /taken by another host/, 'back in touch: definitely lost');
  t.equal(await lease.confirm(), false);
  await held(taken).release();
});

t.test('the database away for longer than a lease: no deletions unless the lease is confirmed', async (t) => {
  const { db, md } = await setup(t);
  const proxy = new TcpProxy(MARIADB.host, MARIADB.port);
  await proxy.start();
  t.teardown(() => proxy.stop());
  let skew = 0; // this host's monotonic clock, moved by the test
  const a = locker(t, db, 'mx1', [{ host: '127.0.0.1', port: proxy.port }], () => performance.now() + skew);
  const lease = held(await ask(a, md));
  await proxy.stop();
  await a.renewAll(); // fails: the database is gone
  t.equal(lease.lost, undefined, 'within its term it is still ours');
  skew += LEASE_MS + 1; // the term runs out on this host's clock
  t.match(lease.lost, /not renewed in time/, 'past its term: maybe taken');
  t.equal(await lease.confirm(), false, 'cannot confirm while the database is away');
  await proxy.start();
  t.equal(await lease.confirm(), true, 'back, and nobody took it: ours again, renewed for a full term');
  t.equal(lease.lost, undefined);
  await lease.release();
});

t.test("a live lock file of a tool or host using lock files: refused, and said why", async (t) => {
  const { db, md } = await setup(t);
  const a = locker(t, db, 'mx1');
  writeFileSync(join(md, LOCK_FILE), `1 1 0 mx9.example someone ${'b'.repeat(8)}/1\n`);
  const attempt = await ask(a, md);
  t.equal(attempt.kind, 'in-use');
  t.match(attempt.kind === 'in-use' ? attempt.conflict : '', /^host mx9\.example holds its lock file .*: with backend = database every host and tool must take leases/);
  t.same(await leaseRows(db), [], 'the lease taken meanwhile was given back');
});

t.test('a retried take (same token) is ours; a take that meets a held row changes nothing', async (t) => {
  const { db, md } = await setup(t);
  const a = locker(t, db, 'mx1');
  const params = ['k'.repeat(64), md, 't'.repeat(32), 'mx1', 'x', 30];
  t.equal(((await a.run(a.sql.take, params)) as { affectedRows: number }).affectedRows, 1, 'inserted');
  t.equal(((await a.run(a.sql.take, params)) as { affectedRows: number }).affectedRows, 2, 'the same token again: renewed, ours');
  const other = [...params];
  other[2] = 'u'.repeat(32);
  t.equal(((await a.run(a.sql.take, other)) as { affectedRows: number }).affectedRows, 0, 'another token: held, nothing changed');
  const [row] = await leaseRows(db);
  t.equal(row?.token, 't'.repeat(32));
});

t.test('backend = local on shared storage: a live lock file of another host is refused with [IN-USE] and logged as an error', async (t) => {
  const { db, md } = await setup(t);
  await db.addUser('alice', 'pw', md);
  const server = await startTestServer({ database: db.name });
  t.teardown(() => server.close());
  // Another host (mx2) holds the maildrop through its own lock file, refreshed a minute ago.
  writeFileSync(join(md, LOCK_FILE), `4242 1 1 mx2.example 0b3e0000-aaaa-bbbb-cccc-000000000000 ${'a'.repeat(36)}/4026531836\n`);
  const minuteAgo = (Date.now() - 60_000) / 1000;
  utimesSync(join(md, LOCK_FILE), minuteAgo, minuteAgo);
  const { client } = await Pop3Client.greeted(server.port);
  t.same(await client.login('alice', 'pw'), { ok: false, text: '[IN-USE] maildrop is locked by another session' });
  client.destroy();
  const line = await server.waitForLine(/lock refused: maildrop lock conflict/);
  t.match(line, /reason="host mx2\.example holds its lock file \(pid 4242, 6\d s ago\): lock files do not hold across hosts; set maildrop_lock \{ backend = database \}"/);
});
