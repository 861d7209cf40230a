// The database stops in the middle of a load and comes back (test/helpers/tcp-proxy.ts in front
// of MariaDB: stopping it refuses new connections and cuts the pool's). While it is down every
// login gets -ERR [SYS/TEMP] -- never [AUTH], which would tell a client its password is wrong
// -- and nothing is counted as a failed login; sessions already logged in go on (RETR, DELE,
// QUIT with its deletions); when it is back logins work again without a restart.
import t from 'tap';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fixture } from '../helpers/fixture';
import { MARIADB } from '../helpers/mariadb';
import { putMessage, sampleMessage } from '../helpers/maildir';
import { Pop3Client } from '../helpers/pop3-client';
import { SpawnedServer, spawnedConfig } from '../helpers/spawned-server';
import { TcpProxy } from '../helpers/tcp-proxy';
import { databaseAndMail } from '../helpers/test-resources';

type Phase = 'before' | 'down' | 'after';
const LOOPS = 4;

t.test('database down mid-load: [SYS/TEMP] meanwhile, open sessions go on, logins recover', async (t) => {
  const proxy = new TcpProxy(MARIADB.host, MARIADB.port);
  await proxy.start();
  t.teardown(() => proxy.stop());
  const f = await fixture(t, { dbPort: proxy.port, log: 'log { destination = stdout  level = info }' });
  const users = Array.from({ length: LOOPS + 2 }, (_, i) => `load${i}`);
  const dirs = new Map<string, string>();
  for (const u of users) {
    const md = f.mail.maildir(u);
    for (let i = 1; i <= 3; i++) putMessage(md, sampleMessage(i));
    await f.db.addUser(u, 'pw', md);
    dirs.set(u, md);
  }
  // Two sessions logged in before the outage.
  const heldA = await f.loggedIn(`load${LOOPS}`, 'pw');
  const heldB = await f.loggedIn(`load${LOOPS + 1}`, 'pw');

  let phase: Phase = 'before';
  let running = true;
  const results: Record<Phase, string[]> = { before: [], down: [], after: [] };
  const okIn = (p: Phase): number => results[p].filter((r) => r === 'ok').length;
  const loop = async (user: string): Promise<void> => {
    while (running) {
      const { client } = await Pop3Client.greeted(f.server.port);
      try {
        const r = await client.login(user, 'pw');
        const seenIn = phase;
        if (r.ok) {
          const retr = await client.cmd('RETR 1');
          if (!retr.ok) throw new Error(`RETR: ${retr.text}`);
          await client.cmd('QUIT');
          results[seenIn].push('ok');
        } else {
          results[seenIn].push(r.text);
          await client.cmd('QUIT');
        }
      } finally {
        client.destroy();
      }
    }
  };
  const until = async (done: () => boolean, what: string): Promise<void> => {
    const deadline = Date.now() + 30_000;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(results)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const loops = users.slice(0, LOOPS).map((u) => loop(u));

  await until(() => okIn('before') >= 3 * LOOPS, 'logins before the outage');
  await proxy.stop();
  phase = 'down';
  await until(() => results.down.filter((r) => r !== 'ok').length >= 10 * LOOPS, 'refused logins while down');

  t.ok((await heldA.cmd('RETR 2')).ok, 'a session logged in before: RETR');
  t.ok((await heldA.cmd('DELE 1')).ok, 'DELE');
  t.same(await heldA.cmd('QUIT'), { ok: true, text: 'r2d2 signing off (1 message deleted)' }, 'QUIT applies its deletion');
  t.equal(readdirSync(join(dirs.get(`load${LOOPS}`) ?? '', 'new')).length, 2);
  t.equal((await heldB.cmd('UIDL')).lines?.length, 3, 'another open session: UIDL');

  await proxy.start();
  phase = 'after';
  const refusedAtRestart = results.after.length;
  await until(() => okIn('after') >= 3 * LOOPS, 'logins after the database came back');
  running = false;
  await Promise.all(loops);

  const refused = results.down.filter((r) => r !== 'ok');
  t.comment(`logins: ${results.before.length} before, ${results.down.length} while down (${refused.length} refused), ${results.after.length} after`);
  t.same([...new Set(refused)], ['[SYS/TEMP] internal error, try again later'], 'every refusal while down is [SYS/TEMP]');
  t.notOk(
    [...results.before, ...results.down, ...results.after].some((r) => r.startsWith('[AUTH]')),
    'no login was answered [AUTH] (a database outage is not a wrong password)',
  );
  t.same(results.after.slice(refusedAtRestart + LOOPS).filter((r) => r !== 'ok'), [], 'once back, logins work again');
  t.same(f.server.lines.filter((l) => /login failed|login failure delay/.test(l)), [], 'no failed login counted (no penalty for an outage)');
  t.ok(f.server.lines.some((l) => /command failed .*command="PASS"/.test(l)), 'the outage is logged');
  t.same(await heldB.cmd('QUIT'), { ok: true, text: 'r2d2 signing off' }, 'the other open session ends normally');
});

// A frozen database (a hang or a partition: nothing refused, nothing answers) is a different
// fault: the accounts query has no timeout of its own, so a PASS waits -- for the database, or
// until login_timeout ends the session ("-ERR autologout: no login in time", 60 s by default).
// Meanwhile nothing else may be held up.
t.test('database frozen: a PASS waits for it; open sessions and new connections are not held up; logins work when it thaws', async (t) => {
  const proxy = new TcpProxy(MARIADB.host, MARIADB.port);
  await proxy.start();
  t.teardown(() => proxy.stop());
  const f = await fixture(t, { dbPort: proxy.port, log: 'log { destination = stdout  level = info }' });
  for (const u of ['held', 'late', 'third']) {
    const md = f.mail.maildir(u);
    putMessage(md, sampleMessage(1));
    await f.db.addUser(u, 'pw', md);
  }
  const held = await f.loggedIn('held', 'pw');
  proxy.freeze();
  const late = await f.client();
  t.ok((await late.cmd('USER late')).ok);
  late.send('PASS pw\r\n');
  const answer = late.readReply(false);
  let answered = false;
  void answer.then(() => (answered = true));
  t.ok((await held.cmd('RETR 1')).ok, 'an open session is not held up by the frozen database');
  t.ok((await held.cmd('NOOP')).ok);
  const other = await f.client();
  t.ok((await other.cmd('CAPA')).ok, 'new connections are greeted and answered');
  t.comment(`PASS answered while frozen: ${answered}`);
  proxy.thaw();
  const r = await answer;
  t.ok(r.ok || r.text.startsWith('[SYS/TEMP]'), `the waiting PASS is answered once it thaws: ${r.ok ? '+OK' : r.text}`);
  t.ok((await other.login('third', 'pw')).ok, 'logins work after the thaw');
  t.same(await held.cmd('QUIT'), { ok: true, text: 'r2d2 signing off' });
});

t.test('database down and back under a spawned server: both worker threads\' pools recover', async (t) => {
  const proxy = new TcpProxy(MARIADB.host, MARIADB.port);
  await proxy.start();
  t.teardown(() => proxy.stop());
  const { db, mail } = await databaseAndMail(t);
  for (let i = 0; i < 8; i++) {
    const md = mail.maildir(`w${i}`);
    putMessage(md, sampleMessage(i));
    await db.addUser(`w${i}`, 'pw', md);
  }
  // spawnedConfig's database section, pointed at the proxy.
  const c11n = spawnedConfig(db.name, mail.path).replace(`port = ${MARIADB.port}`, `port = ${proxy.port}`);
  const server = await SpawnedServer.start(t, c11n);
  const logins = async (): Promise<string[]> =>
    Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const { client } = await Pop3Client.greeted(server.port());
        try {
          const r = await client.login(`w${i}`, 'pw');
          if (r.ok) await client.cmd('QUIT');
          return r.ok ? 'ok' : r.text;
        } finally {
          client.destroy();
        }
      }),
    );
  t.same(await logins(), Array(8).fill('ok'), 'before: 8 logins');
  await proxy.stop();
  t.same(new Set(await logins()), new Set(['[SYS/TEMP] internal error, try again later']), 'down: every login [SYS/TEMP]');
  await proxy.start();
  t.same(await logins(), Array(8).fill('ok'), 'back: 8 logins, no restart');
  t.ok(server.count(/connected .*worker="0"/) > 0 && server.count(/connected .*worker="1"/) > 0, 'both worker threads served');
  t.equal(server.count(/worker thread died|engine exited/), 0, 'no thread or engine lost');
});
