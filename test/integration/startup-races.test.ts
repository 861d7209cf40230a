// Issue 12 item 7 (start-up half): a SIGHUP right after start (`systemctl reload`) must not kill
// r2d2, and a supervisor killed while it binds must not leave the binder holding the ports.
import t, { type Test } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { putMessage, sampleMessage } from '../helpers/maildir';
import { Pop3Client } from '../helpers/pop3-client';
import { freePort } from '../helpers/ports';
import { run } from '../helpers/run';
import { spawnedConfig } from '../helpers/spawned-server';
import { databaseAndMail, tempDir } from '../helpers/test-resources';

const R2D2 = join(__dirname, '../../../bin/r2d2');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Serve {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
}

/** `r2d2 serve` on a personality written to `dir`, killed (by pid) at teardown. */
function serve(t: Test, dir: string, c11n: string): Serve {
  writeFileSync(join(dir, 'c11n'), c11n);
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  const child = spawn(R2D2, ['serve', '-p', dir], { env: { ...env, R2D2_TEST_HOOKS: '1' } });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return { child, exited, output: () => out };
}

async function setup(t: Test) {
  const { db, mail } = await databaseAndMail(t);
  const dir = tempDir(t, 'r2d2-races-');
  const md = mail.maildir('alice');
  putMessage(md, sampleMessage(1));
  await db.addUser('alice', 'pw', md);
  return { db, mail, dir };
}

async function loginServed(port: number): Promise<boolean> {
  try {
    const { client } = await Pop3Client.greeted(port);
    try {
      const ok = (await client.login('alice', 'pw')).ok && (await client.cmd('RETR 1')).ok;
      await client.cmd('QUIT');
      return ok;
    } finally {
      client.destroy();
    }
  } catch {
    return false;
  }
}

t.test('SIGHUP every 20 ms from the first moment r2d2 runs until it has served a login: it stays up and serves', async (t) => {
  const { db, mail, dir } = await setup(t);
  const port = await freePort();
  // The first thing r2d2 itself does is read its c11n; an include that is a FIFO tells the test
  // when that happens (before it, Node is still starting and no program can take signals yet).
  const gate = join(dir, 'gate.c11n');
  t.equal((await run('mkfifo', [gate])).code, 0, 'mkfifo');
  const c11n = spawnedConfig(db.name, mail.path, 'include("gate.c11n")').replace('port = 0', `port = ${port}`);
  const server = serve(t, dir, c11n);
  const writer = await open(gate, 'w');
  // Reloads read a plain file; the FIFO stays open for the first read only.
  writeFileSync(join(dir, 'gate.plain'), 'idle_timeout = 700\n');
  renameSync(join(dir, 'gate.plain'), gate);
  let sent = 0;
  const storm = setInterval(() => {
    if (server.child.exitCode === null && server.child.signalCode === null) {
      server.child.kill('SIGHUP');
      sent++;
    }
  }, 20);
  t.teardown(() => clearInterval(storm));
  await writer.write('idle_timeout = 700\n');
  await writer.close();
  let served = false;
  const deadline = Date.now() + 30_000;
  while (!served && Date.now() < deadline && server.child.exitCode === null && server.child.signalCode === null) {
    served = await loginServed(port);
    if (!served) await sleep(20);
  }
  clearInterval(storm);
  t.ok(served, `a login was served (${sent} SIGHUPs sent)`, { output: server.output() });
  t.equal(server.child.signalCode, null, 'not killed by a signal');
  t.equal(server.child.exitCode, null, 'still running');
  t.ok(sent > 5, `SIGHUPs were sent while it started (${sent})`);
  t.match(server.output(), /SIGHUP: configuration reloaded/, 'the engine applied reloads');
  t.notMatch(server.output(), /engine exited/, 'the engine was never lost');
  server.child.kill('SIGTERM');
  t.equal(await server.exited, 0, 'SIGTERM still stops it cleanly');
});

const childrenOf = (pid: number): number[] => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
};
const cmdline = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
};
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
};
const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** Starts serve and freezes its supervisor while the binder is still starting: the binder then
 *  binds both ports, hands over the first and waits for an acknowledgement that never comes. */
async function frozenMidBind(t: Test, dir: string, c11n: string, second: number): Promise<{ server: Serve; binder: number } | undefined> {
  const server = serve(t, dir, c11n);
  const supervisor = server.child.pid ?? 0;
  let binder: number | undefined;
  const deadline = Date.now() + 15_000;
  while (binder === undefined && Date.now() < deadline) {
    binder = childrenOf(supervisor).find((pid) => cmdline(pid).includes('binder.js'));
    if (binder === undefined) await sleep(1);
  }
  if (binder !== undefined) process.kill(supervisor, 'SIGSTOP');
  const bound = Date.now() + 10_000;
  while (binder !== undefined && alive(binder) && !(await accepts(second)) && Date.now() < bound) await sleep(10);
  if (binder !== undefined && alive(binder) && (await accepts(second))) return { server, binder };
  // Too late: the binder had already finished. Start over.
  server.child.kill('SIGKILL');
  await server.exited;
  return undefined;
}

t.test('a supervisor killed while its binder holds the ports: the binder exits and frees them; the next start binds', async (t) => {
  const { db, mail, dir } = await setup(t);
  const [first, second] = [await freePort(), await freePort()];
  const listeners = `listen "pop3b" { address = "127.0.0.1"  port = ${second} }`;
  const c11n = spawnedConfig(db.name, mail.path, listeners).replace('port = 0', `port = ${first}`);
  let caught: { server: Serve; binder: number } | undefined;
  for (let attempt = 0; attempt < 5 && caught === undefined; attempt++) {
    caught = await frozenMidBind(t, dir, c11n, second);
    if (caught === undefined) await sleep(500);
  }
  if (caught === undefined) throw new Error('never caught the binder holding the ports');
  const { server, binder } = caught;
  t.teardown(() => {
    if (alive(binder)) process.kill(binder, 'SIGKILL');
  });
  t.pass('the binder holds both ports while the supervisor is frozen');
  process.kill(server.child.pid ?? 0, 'SIGKILL');
  await server.exited;
  const freed = Date.now() + 2_000;
  while ((alive(binder) || (await accepts(second))) && Date.now() < freed) await sleep(20);
  t.notOk(alive(binder), 'the binder exited within 2 s of its parent');
  t.notOk(await accepts(second), 'nobody holds the second port');
  const again = serve(t, dir, c11n);
  const ready = Date.now() + 15_000;
  while (!/engine ready/.test(again.output()) && again.child.exitCode === null && Date.now() < ready) await sleep(25);
  // (Without the engine, the port may be held by a lingering binder that never greets: no login then.)
  if (t.match(again.output(), /engine ready/, 'a new serve binds both ports')) t.ok(await loginServed(second), 'and serves on them');
});
