// accounts/mysql-pool.ts against the real MariaDB behind two TCP relays (test/helpers/tcp-proxy):
// statements go to the first server that answers; a server that refuses, or hangs until the
// statement's timeout, is set aside and the statement asked of the next; later statements do
// not wait on it; a statement that is not safe to repeat is not repeated.
import t, { type Test } from 'tap';
import { openMysqlPool, type MysqlPool } from '../../src/accounts/mysql-pool';
import { databaseConfig } from '../helpers/lease';
import { MARIADB, TestDatabase } from '../helpers/mariadb';
import { TcpProxy } from '../helpers/tcp-proxy';

async function setup(t: Test): Promise<{ first: TcpProxy; second: TcpProxy; pool: MysqlPool }> {
  const db = await TestDatabase.create();
  t.teardown(() => db.drop());
  const first = new TcpProxy(MARIADB.host, MARIADB.port);
  const second = new TcpProxy(MARIADB.host, MARIADB.port);
  await first.start();
  await second.start();
  t.teardown(() => Promise.all([first.stop(), second.stop()]));
  const hosts = [first, second].map((p) => ({ host: '127.0.0.1', port: p.port }));
  const pool = openMysqlPool(databaseConfig(db, hosts, { connectTimeoutMs: 1000 }), { connectionLimit: 2 });
  t.teardown(() => pool.end());
  return { first, second, pool };
}

const select = { sql: 'SELECT 1 AS one', params: [], timeoutMs: 1000, retry: true } as const;

t.test('the first server while it answers; the next when it refuses', async (t) => {
  const { first, second, pool } = await setup(t);
  t.same(await pool.run(select), [{ one: 1 }]);
  t.equal(pool.current, `127.0.0.1:${first.port}`);
  t.equal(second.accepted, 0, 'the second is not used while the first answers');
  await first.stop();
  t.same(await pool.run(select), [{ one: 1 }], 'asked of the next server');
  t.equal(pool.current, `127.0.0.1:${second.port}`, 'the first is set aside');
  const used = second.accepted;
  t.same(await pool.run(select), [{ one: 1 }]);
  t.equal(second.accepted, used, 'later statements reuse the second server\'s connection');
});

t.test('a hung server: the statement times out and is asked of the next; later ones do not wait on it', async (t) => {
  const { first, second, pool } = await setup(t);
  t.same(await pool.run(select), [{ one: 1 }]);
  first.freeze(); // a partition: nothing refused, nothing answered
  t.same(await pool.run(select), [{ one: 1 }], 'answered by the second after the first timed out');
  t.ok(second.accepted > 0);
  t.equal(pool.current, `127.0.0.1:${second.port}`);
  const started = first.accepted;
  t.same(await pool.run(select), [{ one: 1 }]);
  t.equal(first.accepted, started, 'the hung server is not asked again (until its probe says it answers)');
  first.thaw();
});

t.test('a statement that is not safe to repeat fails with its server, and is not repeated', async (t) => {
  const { first, second, pool } = await setup(t);
  t.same(await pool.run(select), [{ one: 1 }]);
  first.freeze();
  await t.rejects(pool.run({ ...select, retry: false }), { code: 'PROTOCOL_SEQUENCE_TIMEOUT' });
  t.equal(second.accepted, 0, 'never sent to the second server');
  first.thaw();
});
