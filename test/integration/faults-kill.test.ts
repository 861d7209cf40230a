// kill -9 in the middle of UPDATE: a session marks 1,000 of 1,500 messages deleted and QUITs;
// at the first unlink (seen through inotify) the engine -- or the supervisor and the engine --
// is killed with SIGKILL. Afterwards every message is either still there, byte for byte, or was
// one that QUIT was deleting; no other file is gone or changed, tmp/ holds nothing, and the
// maildrop is not locked forever: a new login (on the restarted engine, or a new server) gets
// it, and a second QUIT finishes the deletions.
import t from 'tap';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { TestDatabase } from '../helpers/mariadb';
import { MailRoot, putMessage, sampleMessage } from '../helpers/maildir';
import { Pop3Client } from '../helpers/pop3-client';
import { SpawnedServer, spawnedConfig } from '../helpers/spawned-server';
import { databaseAndMail } from '../helpers/test-resources';

const TOTAL = 1500;
const DELETED = 1000;
const SUBS = ['new', 'cur'] as const;
/** The kill comes at this many unlinks seen, by attempt: well into UPDATE first, then earlier. */
const KILL_AFTER = [300, 30, 1];

const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
/** The unique-id of a file name as r2d2 computes it: before ':', without the Z field. */
const uidOf = (name: string): string => (name.split(':')[0] ?? '').replace(/Z[0-9A-F]+(?=\.)/, '');

/** name -> content digest of every message file of the maildir. */
function snapshot(md: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const sub of SUBS) for (const name of readdirSync(join(md, sub))) files.set(`${sub}/${name}`, digest(readFileSync(join(md, sub, name))));
  return files;
}

const enginePids = (server: SpawnedServer): number[] => [...server.text.matchAll(/\[(\d+)\]: engine ready/g)].map((m) => Number(m[1]));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\S+ \S+ [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/\(.*\)/, 'x'));
  } catch {
    return false;
  }
}

async function until(done: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

interface Setup {
  readonly md: string;
  readonly before: Map<string, string>;
}

async function maildrop(t: Test, db: TestDatabase, mail: MailRoot, name: string): Promise<Setup> {
  const md = mail.maildir(name);
  for (let i = 0; i < TOTAL; i++) putMessage(md, sampleMessage(i, 2 + (i % 7)), i % 4 === 0 ? 'cur' : 'new', 'S');
  await db.addUser(name, 'pw', md);
  t.comment(`${name}: ${TOTAL} messages`);
  return { md, before: snapshot(md) };
}

/**
 * Logs in, marks DELETED messages (two of every three numbers), sends QUIT and, at the
 * `afterUnlinks`-th unlink seen in new/ or cur/, runs `kill`. Resolves with the doomed unique-ids and how many files
 * were gone right after the kill.
 */
async function quitAndKill(port: number, setup: Setup, afterUnlinks: number, kill: () => void): Promise<{ doomed: Set<string>; goneAtKill: number }> {
  const { client: c } = await Pop3Client.greeted(port);
  try {
    const login = await c.login('victim', 'pw');
    if (!login.ok) throw new Error(`login: ${login.text}`);
    const uidl = await c.cmd('UIDL');
    const byNumber = new Map((uidl.lines ?? []).map((l) => [Number(l.split(' ')[0]), l.split(' ')[1] ?? ''] as const));
    const numbers = [...byNumber.keys()].filter((n) => n % 3 !== 0).slice(0, DELETED);
    c.send(numbers.map((n) => `DELE ${n}\r\n`).join('')); // pipelined
    for (const n of numbers) {
      const r = await c.readReply(false);
      if (!r.ok) throw new Error(`DELE ${n}: ${r.text}`);
    }
    const doomed = new Set(numbers.map((n) => byNumber.get(n) ?? ''));
    const watchers: FSWatcher[] = [];
    let killed = false;
    let seen = 0;
    const fired = new Promise<void>((resolve) => {
      for (const sub of SUBS) {
        watchers.push(
          watch(join(setup.md, sub), () => {
            if (killed || ++seen < afterUnlinks) return;
            killed = true;
            kill();
            resolve();
          }),
        );
      }
    });
    c.send('QUIT\r\n');
    await fired;
    watchers.forEach((w) => w.close());
    const goneAtKill = setup.before.size - snapshot(setup.md).size;
    return { doomed, goneAtKill };
  } finally {
    c.destroy();
  }
}

/** The invariants after a kill: only doomed messages gone, the rest intact, tmp/ empty. */
function checkAfterKill(t: Test, setup: Setup, doomed: Set<string>): Map<string, string> {
  const after = snapshot(setup.md);
  const lost = [...setup.before.keys()].filter((k) => !after.has(k) && !doomed.has(uidOf(k.slice(4))));
  t.same(lost, [], 'no message gone that the QUIT was not deleting');
  const changed = [...after].filter(([k, d]) => setup.before.get(k) !== d);
  t.same(changed, [], 'no file new, renamed or changed (nothing half-written)');
  t.same(readdirSync(join(setup.md, 'tmp')), [], 'tmp/ is empty');
  const keptGone = [...setup.before.keys()].filter((k) => !doomed.has(uidOf(k.slice(4))) && !after.has(k));
  t.equal(keptGone.length, 0, `all ${TOTAL - DELETED} kept messages still there`);
  return after;
}

/** A new session sees exactly the files left, and its QUIT finishes the deletions. */
async function finishDeletions(t: Test, port: number, setup: Setup, doomed: Set<string>, left: number): Promise<void> {
  const { client: c } = await Pop3Client.greeted(port);
  try {
    const login = await c.login('victim', 'pw');
    t.ok(login.ok, `a new login gets the maildrop (not locked forever): ${login.text}`);
    t.equal(Number((await c.cmd('STAT')).text.split(' ')[0]), left, 'STAT counts the files left');
    const uidl = await c.cmd('UIDL');
    const again = (uidl.lines ?? []).filter((l) => doomed.has(l.split(' ')[1] ?? '')).map((l) => Number(l.split(' ')[0]));
    c.send(again.map((n) => `DELE ${n}\r\n`).join(''));
    for (let i = 0; i < again.length; i++) await c.readReply(false);
    const quit = await c.cmd('QUIT');
    t.ok(quit.ok, `the second QUIT: ${quit.text}`);
  } finally {
    c.destroy();
  }
  const rest = snapshot(setup.md);
  t.equal(rest.size, TOTAL - DELETED, `${TOTAL - DELETED} messages left`);
  t.ok([...rest].every(([k, d]) => setup.before.get(k) === d && !doomed.has(uidOf(k.slice(4)))), 'exactly the kept ones, intact');
}

async function base(t: Test): Promise<{ db: TestDatabase; mail: MailRoot }> {
  const { db, mail } = await databaseAndMail(t);
  return { db, mail };
}

t.test('kill -9 of the engine mid-UPDATE: the supervisor restarts it; nothing else lost; the maildrop is free', async (t) => {
  const { db, mail } = await base(t);
  const server = await SpawnedServer.start(t, spawnedConfig(db.name, mail.path));
  // Until a kill lands mid-UPDATE (some, not all, of the 1,000 files gone), at most 3 times,
  // each time earlier into it.
  for (let attempt = 1; attempt <= 3; attempt++) {
    const setup = await maildrop(t, db, mail, attempt === 1 ? 'victim' : `victim${attempt}`);
    if (attempt > 1) await db.query(`UPDATE mailbox SET maildir = ? WHERE username = 'victim'`, [setup.md]);
    const engine = enginePids(server).at(-1) ?? 0;
    const { doomed, goneAtKill } = await quitAndKill(server.port(), setup, KILL_AFTER[attempt - 1] ?? 1, () => process.kill(engine, 'SIGKILL'));
    t.comment(`attempt ${attempt}: ${goneAtKill} of ${DELETED} files were gone when the engine was killed`);
    await until(() => !alive(engine), 'the engine to die');
    const after = checkAfterKill(t, setup, doomed);
    await until(() => enginePids(server).length === attempt + 1, 'the supervisor to restart the engine');
    t.match(server.text, /engine exited; restarting it/, 'the supervisor logged the restart');
    await finishDeletions(t, server.port(), setup, doomed, after.size);
    if (goneAtKill > 0 && goneAtKill < DELETED) {
      t.pass(`killed mid-UPDATE (${goneAtKill} of ${DELETED} removed)`);
      return;
    }
  }
  t.fail('no kill landed mid-UPDATE in 3 attempts');
});

t.test('kill -9 of the supervisor and the engine mid-UPDATE: a new server gets the maildrop; nothing else lost', async (t) => {
  const { db, mail } = await base(t);
  for (let attempt = 1; attempt <= 3; attempt++) {
    const server = await SpawnedServer.start(t, spawnedConfig(db.name, mail.path));
    const setup = await maildrop(t, db, mail, attempt === 1 ? 'victim' : `victim${attempt}`);
    if (attempt > 1) await db.query(`UPDATE mailbox SET maildir = ? WHERE username = 'victim'`, [setup.md]);
    const engine = enginePids(server).at(-1) ?? 0;
    const supervisor = server.child.pid ?? 0;
    const { doomed, goneAtKill } = await quitAndKill(server.port(), setup, KILL_AFTER[attempt - 1] ?? 1, () => {
      process.kill(supervisor, 'SIGKILL');
      process.kill(engine, 'SIGKILL');
    });
    t.comment(`attempt ${attempt}: ${goneAtKill} of ${DELETED} files were gone at the kill`);
    await server.exited;
    await until(() => !alive(engine), 'the engine to die');
    const after = checkAfterKill(t, setup, doomed);
    t.comment(`a lock file was ${existsSync(join(setup.md, '.r2d2.lock')) ? '' : 'not '}left behind`);
    const fresh = await SpawnedServer.start(t, spawnedConfig(db.name, mail.path));
    await finishDeletions(t, fresh.port(), setup, doomed, after.size);
    if (goneAtKill > 0 && goneAtKill < DELETED) {
      t.pass(`killed mid-UPDATE (${goneAtKill} of ${DELETED} removed)`);
      return;
    }
  }
  t.fail('no kill landed mid-UPDATE in 3 attempts');
});
