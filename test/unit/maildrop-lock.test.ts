import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import t from 'tap';
import { LOCK_FILE, liveLockFile, lockMaildrop, tryLockMaildrop, type MaildropLock } from '../../src/maildrop/lock';
import { refreshHeldLocks } from '../../src/maildrop/lock-refresh';
import { nonceIn, removeIfOursSync } from '../../src/maildrop/lock-files';

interface Test { teardown(fn: () => void): void }
const LOCK_MODULE = path.resolve(__dirname, '../../src/maildrop/lock.js');
// A holder in another process: prints locked/busy, keeps the lock until killed or stdin ends.
const HOLDER = `require(process.argv[1]).lockMaildrop(process.argv[2]).then((l) => {
  process.stdout.write(l ? 'locked\\n' : 'busy\\n');
  process.stdin.on('end', () => (l ? l.release() : Promise.resolve()).then(() => process.exit(0))).resume();
}, (e) => { process.stdout.write('error ' + e.code + '\\n'); process.exit(1); });`;

function maildir(t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'r2d2-lock-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function holder(t: Test, dir: string): { child: ChildProcess; said: Promise<string> } {
  const child = spawn(process.execPath, ['-e', HOLDER, LOCK_MODULE, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.teardown(() => child.kill('SIGKILL'));
  const said = new Promise<string>((resolve) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.on('exit', () => resolve(out.trim() || 'exited'));
  });
  return { child, said };
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  if (child.pid === undefined) throw new Error('no pid');
  return child.pid;
}

/** Our own lock line, split: [pid, startTime, threadId, host, nonce, scope]. */
async function ourFields(dir: string): Promise<string[]> {
  const l = await lockMaildrop(dir);
  if (l === undefined) throw new Error('could not lock');
  const fields = fs.readFileSync(l.path, 'utf8').trim().split(' ');
  await l.release();
  return fields;
}

function writeLock(dir: string, fields: readonly string[], ageMs = 0): void {
  const file = path.join(dir, LOCK_FILE);
  fs.writeFileSync(file, fields.join(' ') + '\n');
  const when = (Date.now() - ageMs) / 1000;
  fs.utimesSync(file, when, when);
}

const with_ = (f: readonly string[], i: number, v: string): string[] => f.map((x, j) => (j === i ? v : x));
const startTimeOf = (pid: number): string => {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
};

t.test('second lock refused, release frees, release idempotent', async (t) => {
  const dir = maildir(t);
  const a = await lockMaildrop(dir);
  if (a === undefined) throw new Error('not locked');
  t.equal(a.path, path.join(dir, LOCK_FILE));
  t.equal(fs.statSync(a.path).mode & 0o777, 0o600);
  t.match(fs.readFileSync(a.path, 'utf8'), new RegExp(`^${process.pid} \\d+ 0 \\S+ \\S+ \\S+/\\S+\\n$`));
  t.equal(await lockMaildrop(dir), undefined, 'held by this thread');
  await a.release();
  t.notOk(fs.existsSync(a.path));
  const b = await lockMaildrop(dir);
  t.ok(b, 'free again');
  await a.release();
  t.ok(fs.existsSync(a.path), 'a second release of a does not remove b');
  await b?.release();
  t.same(fs.readdirSync(dir), []);
});

t.test('release removes only its own lock', async (t) => {
  const dir = maildir(t);
  const a = await lockMaildrop(dir);
  const other = fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8').replace(/ \S+ (\S+)\n$/, ' someone-else $1\n');
  fs.writeFileSync(path.join(dir, LOCK_FILE), other);
  await a?.release();
  t.equal(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8'), other);
});

t.test('locks judged stale, and broken', async (t) => {
  const dir = maildir(t);
  const me = await ourFields(dir);
  const parentStart = startTimeOf(process.ppid);
  const cases: [string, string[], number?][] = [
    ['dead pid', with_(with_(me, 0, String(await deadPid())), 4, 'n1')],
    ['live pid, other start time (pid reused)', with_(with_(me, 0, String(process.ppid)), 1, '1')],
    ['our pid and thread, not held by us', with_(me, 4, 'n2')],
    ['our pid, an earlier start time', with_(with_(me, 1, '1'), 4, 'n3')],
    ['other host, not refreshed for over 10 minutes', with_(me, 3, 'elsewhere.example'), 11 * 60_000],
    ['from before a reboot (untouched since), pid alive', with_(with_(with_(me, 0, String(process.ppid)), 1, parentStart), 5, 'oldboot/' + (me[5]?.split('/')[1] ?? '')), (os.uptime() + 60) * 1000],
    ['other pid namespace, not refreshed for over 10 minutes', with_(me, 5, (me[5]?.split('/')[0] ?? '') + '/1'), 11 * 60_000],
    ['unparseable, over 60 s old', ['garbage'], 120_000],
    ['empty, over 60 s old', [], 120_000],
  ];
  for (const [name, fields, age] of cases) {
    writeLock(dir, fields, age);
    const l = await lockMaildrop(dir);
    t.ok(l, name);
    t.match(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8'), new RegExp(`^${process.pid} `), `${name}: ours now`);
    await l?.release();
  }
  t.same(fs.readdirSync(dir), [], 'no lock or stale leftovers');
});

t.test('locks judged alive, and kept', async (t) => {
  const dir = maildir(t);
  const me = await ourFields(dir);
  const cases: [string, string[], number?][] = [
    ['live pid, same start time', with_(with_(me, 0, String(process.ppid)), 1, startTimeOf(process.ppid))],
    ['another thread of ours (default liveness)', with_(me, 2, '99')],
    ['other host, refreshed 9 minutes ago', with_(with_(me, 0, String(await deadPid())), 3, 'elsewhere.example'), 9 * 60_000],
    ['our host name, another boot, touched since we booted: another machine', with_(with_(me, 0, String(await deadPid())), 5, 'otherboot/' + (me[5]?.split('/')[1] ?? ''))],
    ['other pid namespace, fresh', with_(with_(me, 0, String(await deadPid())), 5, (me[5]?.split('/')[0] ?? '') + '/1')],
    ['unparseable, fresh', ['1 2 3'], 30_000],
    ['empty (being written)', []],
  ];
  for (const [name, fields, age] of cases) {
    writeLock(dir, fields, age);
    const before = fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8');
    t.equal(await lockMaildrop(dir), undefined, name);
    t.equal(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8'), before, `${name}: untouched`);
  }
});

t.test('liveness of other threads', async (t) => {
  const dir = maildir(t);
  const me = await ourFields(dir);
  const asked: string[] = [];
  writeLock(dir, with_(me, 2, '7'));
  t.equal(await lockMaildrop(dir, { isThreadAlive: (p, th) => (asked.push(`${p}/${th}`), true) }), undefined);
  const l = await lockMaildrop(dir, { isThreadAlive: () => false });
  t.ok(l, 'a dead thread: broken');
  t.same(asked, [`${process.pid}/7`]);
  await l?.release();
});

t.test('a holder in another process', async (t) => {
  const dir = maildir(t);
  const h = holder(t, dir);
  t.equal(await h.said, 'locked');
  t.equal(await lockMaildrop(dir), undefined, 'refused while it lives');
  t.match(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8'), new RegExp(`^${h.child.pid} `));
  h.child.kill('SIGKILL');
  await once(h.child, 'exit');
  const l = await lockMaildrop(dir);
  t.ok(l, 'its lock is stale once it is killed');
  await l?.release();
  const g = holder(t, dir);
  t.equal(await g.said, 'locked');
  g.child.stdin?.end();
  await once(g.child, 'exit');
  t.same(fs.readdirSync(dir), [], 'the other process released its lock');
});

t.test('races: exactly one winner', async (t) => {
  const dir = maildir(t);
  const me = await ourFields(dir);
  const count = async (): Promise<number> => {
    const got = await Promise.all(Array.from({ length: 20 }, () => lockMaildrop(dir)));
    const won = got.filter((l): l is MaildropLock => l !== undefined);
    await Promise.all(won.map((l) => l.release()));
    return won.length;
  };
  t.equal(await count(), 1, 'free lock, 20 lockers in this thread');
  writeLock(dir, with_(me, 0, String(await deadPid())));
  t.equal(await count(), 1, 'stale lock, 20 breakers in this thread');
  writeLock(dir, with_(me, 0, String(await deadPid())));
  const holders = Array.from({ length: 6 }, () => holder(t, dir));
  const said = await Promise.all(holders.map((h) => h.said));
  t.same(said.filter((s) => s === 'locked').length, 1, `6 processes on a stale lock: ${said.join(',')}`);
  t.same(said.filter((s) => s !== 'locked' && s !== 'busy'), []);
  t.same(fs.readdirSync(dir), [LOCK_FILE], 'no stale leftovers');
});

// Worker: on 'go' runs 5 lockers at once and reports how many won; on 'release' releases them.
const RACER = `const { parentPort, workerData } = require('node:worker_threads');
const { lockMaildrop } = require(workerData.module);
let won = [];
parentPort.on('message', async (m) => {
  if (m === 'go') {
    won = (await Promise.all([1, 2, 3, 4, 5].map(() => lockMaildrop(workerData.dir)))).filter(Boolean);
    parentPort.postMessage(won.length);
  } else {
    await Promise.all(won.map((l) => l.release()));
    parentPort.postMessage('released');
  }
});`;

t.test('threads race on a stale lock: exactly one winner each time', async (t) => {
  const dir = maildir(t);
  const me = await ourFields(dir);
  const workers = Array.from({ length: 4 }, () => new Worker(RACER, { eval: true, workerData: { module: LOCK_MODULE, dir } }));
  t.teardown(() => Promise.all(workers.map((w) => w.terminate())));
  const ask = (m: string): Promise<unknown[]> =>
    Promise.all(workers.map((w) => { const reply = once(w, 'message'); w.postMessage(m); return reply.then(([r]) => r); }));
  const rounds: number[] = [];
  for (let i = 0; i < 25; i++) {
    writeLock(dir, with_(me, 0, String(process.ppid)).map((f, j) => (j === 1 ? '1' : j === 4 ? `stale${i}` : f)));
    const won = await ask('go');
    rounds.push(won.reduce((sum: number, n) => sum + (typeof n === 'number' ? n : 0), 0));
    await ask('release');
  }
  t.same(rounds, Array.from({ length: 25 }, () => 1), '25 rounds of 4 threads x 5 lockers');
  t.same(fs.readdirSync(dir), []);
});

t.test('the breakers\' guard', async (t) => {
  const dir = maildir(t);
  const me = await ourFields(dir);
  const guard = path.join(dir, `${LOCK_FILE}.break`);
  writeLock(dir, with_(me, 4, 'stale'));
  fs.writeFileSync(guard, '1 x\n');
  t.equal(await lockMaildrop(dir), undefined, 'another breaker at work: in use for now');
  t.ok(fs.existsSync(guard), 'its guard is left alone');
  const when = (Date.now() - 20_000) / 1000;
  fs.utimesSync(guard, when, when);
  const l = await lockMaildrop(dir);
  t.ok(l, 'a guard left by a killed breaker is removed, then the stale lock');
  await l?.release();
  t.same(fs.readdirSync(dir), []);
});

t.test('a missing maildir is an error, not contention', async (t) => {
  const dir = maildir(t);
  await t.rejects(lockMaildrop(path.join(dir, 'nope')), { code: 'ENOENT' });
});

t.test('a live lock of another host is a conflict to report, not just "in use"', async (t) => {
  const dir = maildir(t);
  const me = await ourFields(dir);
  writeLock(dir, with_(with_(me, 0, String(await deadPid())), 3, 'mx2.example'), 5_000);
  const attempt = await tryLockMaildrop(dir);
  t.equal(attempt.kind, 'in-use');
  t.match(attempt.kind === 'in-use' ? attempt.conflict : '', /^host mx2\.example holds its lock file \(pid \d+, 5 s ago\): lock files do not hold across hosts; set maildrop_lock \{ backend = database \}$/);
  t.match(await liveLockFile(dir), /^host mx2\.example holds its lock file/, 'the database backend sees it the same way');
  writeLock(dir, with_(with_(me, 0, String(await deadPid())), 5, 'otherboot/' + (me[5]?.split('/')[1] ?? '')));
  const twin = await tryLockMaildrop(dir);
  t.match(twin.kind === 'in-use' ? twin.conflict : '', /^another machine named \S+ \(boot otherboo\) holds its lock file/, 'same host name, other boot, fresh');
  writeLock(dir, with_(me, 0, String(process.ppid)).map((f, j) => (j === 1 ? startTimeOf(process.ppid) : f)));
  const local = await tryLockMaildrop(dir);
  t.same(local, { kind: 'in-use' }, 'a live holder on this host: in use, no conflict');
  t.match(await liveLockFile(dir), /^pid \d+ of this host holds a lock file$/);
  writeLock(dir, with_(me, 0, String(await deadPid())));
  t.equal(await liveLockFile(dir), undefined, 'a stale lock counts as none');
});

t.test('a held lock is refreshed for other hosts, and knows when it was taken from it', async (t) => {
  const dir = maildir(t);
  const l = await lockMaildrop(dir);
  if (l === undefined) throw new Error('not locked');
  const old = (Date.now() - 5 * 60_000) / 1000;
  fs.utimesSync(l.path, old, old);
  await refreshHeldLocks();
  t.ok(Date.now() - fs.statSync(l.path).mtimeMs < 60_000, 'mtime refreshed');
  t.equal(l.lost, undefined);
  t.equal(await l.confirm(), true, 'still ours');
  // Another host on shared storage judged it stale and took it: our line is gone.
  fs.writeFileSync(l.path, '999 1 0 elsewhere.example other-nonce x/y\n');
  t.equal(await l.confirm(), false, 'no longer ours: UPDATE must not run');
  t.match(l.lost, /removed or replaced/);
  await l.release();
  t.equal(fs.readFileSync(l.path, 'utf8'), '999 1 0 elsewhere.example other-nonce x/y\n', 'the other holder\'s lock is left alone');
  const m = await lockMaildrop(path.join(dir, 'sub'), undefined).catch(() => undefined);
  t.equal(m, undefined);
  fs.rmSync(l.path);
  const n = await lockMaildrop(dir);
  fs.rmSync(n?.path ?? '');
  await refreshHeldLocks();
  t.match(n?.lost, /removed or replaced/, 'the refresh finds a removed lock too');
  await n?.release();
});

t.test('blocking reads of a lock file: a short line in one read, a long file read whole', async (t) => {
  const dir = maildir(t);
  const file = path.join(dir, LOCK_FILE);
  const line = `${process.pid} 1 0 ${os.hostname()} nonce-x -/-\n`;
  fs.writeFileSync(file, line);
  t.equal(await nonceIn(file, true), 'nonce-x');
  fs.writeFileSync(file, ' '.repeat(3000) + line);
  t.equal(await nonceIn(file, true), 'nonce-x', 'past the first read');
  removeIfOursSync(file, 'other');
  t.ok(fs.existsSync(file), 'not ours: kept');
  removeIfOursSync(file, 'nonce-x');
  t.notOk(fs.existsSync(file), 'ours: removed');
});
