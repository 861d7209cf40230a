import t from 'tap';
import { chownSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { putMessage, sampleMessage } from '../helpers/maildir';
import { Pop3Client } from '../helpers/pop3-client';
import { SpawnedServer, spawnedConfig } from '../helpers/spawned-server';
import { databaseAndMail } from '../helpers/test-resources';
import type { Test } from 'tap';

async function setup(t: Test, extra = '', threads = 2) {
  const { db, mail } = await databaseAndMail(t);
  const server = await SpawnedServer.start(t, spawnedConfig(db.name, mail.path, extra, threads));
  const clients: Pop3Client[] = [];
  t.teardown(() => clients.forEach((c) => c.destroy()));
  const client = async (port = server.port()): Promise<Pop3Client> => {
    const { client: c } = await Pop3Client.greeted(port);
    clients.push(c);
    return c;
  };
  return { db, mail, server, client };
}

const files = (md: string) => [...readdirSync(join(md, 'new')), ...readdirSync(join(md, 'cur'))].length;

t.test('sessions spread over every worker thread and behave the same on each', async (t) => {
  const { db, mail, server, client } = await setup(t);
  // Both workers accept on one listening socket and the kernel picks which one wakes: on a loaded
  // machine one of them can take eight connections in a row. Connections are opened (and held)
  // four at a time until both have served some, at most 64: the spread is what is tested, not luck.
  const clients = await Promise.all(Array.from({ length: 8 }, () => client()));
  const served = (worker: number): number => server.count(new RegExp(`connected .*worker="${worker}"`));
  while (served(0) + served(1) < clients.length) await new Promise((resolve) => setTimeout(resolve, 20)); // the connect lines arrive after the greetings
  while ((served(0) === 0 || served(1) === 0) && clients.length < 64) {
    clients.push(...(await Promise.all(Array.from({ length: 4 }, () => client()))));
    while (served(0) + served(1) < clients.length) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  for (let i = 0; i < clients.length; i++) {
    const md = mail.maildir(`u${i}`);
    putMessage(md, sampleMessage(i));
    await db.addUser(`u${i}`, 'pw', md);
  }
  const replies = await Promise.all(clients.map(async (c, i) => (await c.login(`u${i}`, 'pw')).ok && (await c.cmd('STAT')).text));
  for (const r of replies) t.match(r, /^1 \d+$/);
  await Promise.all(clients.map((c) => c.cmd('QUIT')));
  while (server.count(/disconnected/) < clients.length) await new Promise((resolve) => setTimeout(resolve, 20));
  t.ok(served(0) > 0, 'worker 0 served sessions');
  t.ok(served(1) > 0, 'worker 1 served sessions');
  const numbers = server.lines.map((l) => /\[(\d+)\] connected/.exec(l)?.[1]).filter((n) => n !== undefined);
  t.equal(new Set(numbers).size, clients.length, `session numbers are unique across workers (${clients.length} sessions)`);
});

t.test('the maildrop lock holds across workers and across two server processes', async (t) => {
  const { db, mail, client } = await setup(t);
  const md = mail.maildir('shared');
  putMessage(md, sampleMessage(1));
  await db.addUser('shared', 'pw', md);
  const first = await client();
  t.ok((await first.login('shared', 'pw')).ok);
  const results = await Promise.all(
    Array.from({ length: 6 }, async () => {
      const c = await client();
      return (await c.login('shared', 'pw')).text;
    }),
  );
  t.same(new Set(results), new Set(['[IN-USE] maildrop is locked by another session']), 'every other worker sees the lock');
  const other = await SpawnedServer.start(t, spawnedConfig(db.name, mail.path));
  const fromOther = await client(other.port());
  t.same(await fromOther.login('shared', 'pw'), { ok: false, text: '[IN-USE] maildrop is locked by another session' });
  await first.cmd('QUIT');
  await first.waitClosed();
  t.ok((await fromOther.login('shared', 'pw')).ok, 'free for the other process after QUIT');
});

t.test('a worker that dies loses only its own sessions, applies none of their deletions, and is replaced', async (t) => {
  const { db, mail, server, client } = await setup(t);
  const USERS = 16;
  const mds: string[] = [];
  for (let i = 0; i < USERS; i++) {
    const md = mail.maildir(`k${i}`);
    putMessage(md, sampleMessage(i));
    putMessage(md, sampleMessage(i + 100));
    await db.addUser(`k${i}`, 'pw', md);
    mds.push(md);
  }
  const workerOf = (user: string): string | undefined => {
    const n = new RegExp(`\\[(\\d+)\\] login ok user="${user}"`).exec(server.text)?.[1];
    return n === undefined ? undefined : new RegExp(`\\[${n}\\] connected .*worker="(\\d+)"`).exec(server.text)?.[1];
  };
  // The kernel spreads connections over the workers: log in until both hold sessions.
  const sessions: Pop3Client[] = [];
  const workers = new Set<string>();
  for (let i = 0; i < USERS && (workers.size < 2 || sessions.length < 3); i++) {
    const c = await client();
    t.ok((await c.login(`k${i}`, 'pw')).ok);
    t.ok((await c.cmd('DELE 1')).ok);
    sessions.push(c);
    await server.waitFor(new RegExp(`login ok user="k${i}"`));
    workers.add(workerOf(`k${i}`) ?? '');
  }
  t.equal(workers.size, 2, 'sessions on both workers');
  const victim = workerOf('k0') ?? '';
  const indexes = sessions.map((_, i) => i);
  const lost = indexes.filter((i) => workerOf(`k${i}`) === victim);
  const survivors = indexes.filter((i) => workerOf(`k${i}`) !== victim);
  writeFileSync(join(server.dir, 'kill-slot'), victim);
  server.child.kill('SIGUSR2');
  for (const i of lost) await sessions[i]?.waitClosed();
  await server.waitFor(new RegExp(`worker="${victim}".*worker thread died|worker thread died; its sessions are lost without deletions.*worker="${victim}"`));
  for (const i of survivors) {
    t.same(await sessions[i]?.cmd('QUIT'), { ok: true, text: 'r2d2 signing off (1 message deleted)' }, `k${i} on the other worker goes on`);
  }
  for (const i of lost) t.equal(files(mds[i] ?? ''), 2, `k${i}: nothing deleted`);
  for (const i of survivors) t.equal(files(mds[i] ?? ''), 1, `k${i}: its deletion applied`);
  // The dead worker's maildrop locks are stale: its users can log in again at once.
  for (const i of lost) {
    const again = await client();
    t.ok((await again.login(`k${i}`, 'pw')).ok, `k${i} can log in again`);
    await again.cmd('QUIT');
  }
  t.ok((await (await client()).cmd('CAPA')).ok, 'listeners keep accepting');
});

t.test('SIGTERM: sessions may finish within shutdown_timeout; the rest are closed without their deletions; exit 0', async (t) => {
  const { db, mail, server, client } = await setup(t, 'shutdown_timeout = 2');
  const quitter = mail.maildir('quitter');
  const lingerer = mail.maildir('lingerer');
  for (const md of [quitter, lingerer]) {
    putMessage(md, sampleMessage(1));
    putMessage(md, sampleMessage(2));
  }
  await db.addUser('quitter', 'pw', quitter);
  await db.addUser('lingerer', 'pw', lingerer);
  const q = await client();
  const l = await client();
  await q.login('quitter', 'pw');
  await l.login('lingerer', 'pw');
  await q.cmd('DELE 1');
  await l.cmd('DELE 1');
  server.child.kill('SIGTERM');
  await server.waitFor(/SIGTERM: shutting down/);
  t.same(await q.cmd('QUIT'), { ok: true, text: 'r2d2 signing off (1 message deleted)' }, 'a session finishing during the drain completes');
  const rest = await l.readToClose();
  t.equal(rest, '-ERR [SYS/TEMP] server shutting down\r\n');
  t.equal(await server.exited, 0);
  t.equal(files(quitter), 1);
  t.equal(files(lingerer), 2, 'nothing half-applied');
  t.match(server.text, /disconnected: server shutdown, sequence="upd"/);
});

t.test('SIGHUP reloads limits and the query without dropping sessions; SIGUSR1 logs status', async (t) => {
  const { db, mail, server, client } = await setup(t);
  const md = mail.maildir('h');
  await db.addUser('h', 'pw', md);
  const before = await client();
  t.ok((await before.login('h', 'pw')).ok);
  const c11n = readFileSync(join(server.dir, 'c11n'), 'utf8');
  writeFileSync(join(server.dir, 'c11n'), c11n.replace('AND active = 1', 'AND active = 1 AND username <> %u').replace('limits {', 'limits { max_bad_commands = 2'));
  server.child.kill('SIGHUP');
  await server.waitFor(/SIGHUP: configuration reloaded/);
  t.ok((await before.cmd('STAT')).ok, 'the session from before goes on');
  const after = await client();
  t.same(await after.login('h', 'pw'), { ok: false, text: '[AUTH] Authentication failed' }, 'the new query is used');
  await after.cmd('X');
  t.same(await after.cmd('Y'), { ok: false, text: 'too many bad commands, closing' }, 'the new limit is used');
  server.child.kill('SIGUSR1');
  const status = await server.waitFor(/status threads="2" connections="\d+" workers="0: \d+ sessions[^"]*; 1: \d+ sessions/);
  t.ok(status);
});

t.test('privileges: sessions run as the configured uid/gid; root without uid is refused', async (t) => {
  const { db, mail } = await databaseAndMail(t);
  chownSync(mail.path, 65534, 65534);
  const md = mail.maildir('nob');
  for (const sub of ['', 'new', 'cur', 'tmp']) chownSync(join(md, sub), 65534, 65534);
  const name = putMessage(md, sampleMessage(1));
  chownSync(join(md, 'new', name), 65534, 65534);
  const rootOnly = join(mail.path, 'rootonly');
  mkdirSync(rootOnly, { mode: 0o700 });
  await db.addUser('nob', 'pw', md);
  await db.addUser('root', 'pw', rootOnly);
  const server = await SpawnedServer.start(t, spawnedConfig(db.name, mail.path, 'uid = nobody\ngid = 65534'));
  const status = readFileSync(`/proc/${server.enginePid()}/status`, 'utf8');
  t.match(status, /\nUid:\t65534\t65534\t65534\t65534\n/, 'the engine runs as nobody');
  t.match(status, /\nGid:\t65534\t65534\t65534\t65534\n/);
  const { client: c } = await Pop3Client.greeted(server.port());
  t.teardown(() => c.destroy());
  t.ok((await c.login('nob', 'pw')).ok);
  await c.cmd('DELE 1');
  t.match((await c.cmd('QUIT')).text, /1 message deleted/);
  const { client: r } = await Pop3Client.greeted(server.port());
  t.teardown(() => r.destroy());
  t.same(await r.login('root', 'pw'), { ok: false, text: '[SYS/TEMP] maildrop cannot be opened now' }, 'a root-only maildrop is out of reach');

  const { run } = await import('../helpers/run');
  const dir = server.dir;
  writeFileSync(join(dir, 'c11n'), spawnedConfig(db.name, mail.path).replace('executes_as_root = yes', ''));
  const refused = await run(join(__dirname, '../../../bin/r2d2'), ['serve', '-p', dir]);
  t.equal(refused.code, 2);
  t.match(refused.stderr, /refusing to run sessions as root: set uid and gid in c11n, or executes_as_root = true/);
});
