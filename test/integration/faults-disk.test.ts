// Disk faults on a real, small filesystem: a tmpfs mounted for the test as the maildir root
// (needs root and mount(2); skipped otherwise, saying why). Disk full: logins that cannot write
// the lock get -ERR [SYS/TEMP] and a log line, sessions already open go on and their deletions
// apply. Read-only at UPDATE (the filesystem remounted read-only between DELE and QUIT): QUIT
// says the deletions failed, nothing is lost, and once writable again the maildrop is not locked.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { TestDatabase } from '../helpers/mariadb';
import { putMessage, sampleMessage } from '../helpers/maildir';
import { Pop3Client } from '../helpers/pop3-client';
import { fixture } from '../helpers/fixture';
import { SpawnedServer, spawnedConfig } from '../helpers/spawned-server';

function mountTmpfs(path: string, size: string): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', path], { stdio: 'pipe' });
}

/** Why these tests cannot run here, or undefined: they need root and a working mount -t tmpfs. */
const cannotMount = ((): string | undefined => {
  if (process.getuid?.() !== 0) return 'needs root to mount a tmpfs';
  const probe = mkdtempSync(join(tmpdir(), 'r2d2-disk-'));
  try {
    mountTmpfs(probe, '1m');
    execFileSync('umount', [probe], { stdio: 'pipe' });
    return undefined;
  } catch (e) {
    return `mount -t tmpfs does not work here: ${(e as Error).message.split('\n')[0] ?? ''}`;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
})();

/** A tmpfs of `size` mounted on a fresh folder, unmounted (lazily, whatever holds it) at teardown. */
function smallDisk(t: Test, size: string): string {
  const path = mkdtempSync(join(tmpdir(), 'r2d2-disk-'));
  mountTmpfs(path, size);
  t.teardown(() => {
    execFileSync('umount', ['-l', path], { stdio: 'pipe' });
    rmSync(path, { recursive: true, force: true });
  });
  return path;
}

function maildir(root: string, name: string, count: number): string {
  const md = join(root, name);
  for (const sub of ['tmp', 'new', 'cur']) mkdirSync(join(md, sub), { recursive: true });
  for (let i = 1; i <= count; i++) putMessage(md, sampleMessage(i));
  return md;
}

const count = (md: string): number => readdirSync(join(md, 'new')).length + readdirSync(join(md, 'cur')).length;

/** Writes until the filesystem is full; returns the filler's path. */
function fill(root: string): string {
  const filler = join(root, 'filler');
  const chunk = Buffer.alloc(64 * 1024, 0x78);
  const parts: Buffer[] = [];
  for (;;) {
    try {
      writeFileSync(filler, Buffer.concat([...parts, chunk]));
      parts.push(chunk);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
      writeFileSync(filler, Buffer.concat(parts));
      break;
    }
  }
  // The last pages: a file per remaining page, until even that fails.
  for (let i = 0; ; i++) {
    try {
      writeFileSync(join(root, `filler-${i}`), Buffer.alloc(4096, 0x79));
    } catch {
      break;
    }
  }
  return filler;
}

const skip = cannotMount === undefined ? {} : { skip: cannotMount };

t.test('disk full: new logins -ERR [SYS/TEMP] (the lock cannot be written), open sessions go on', skip, async (t) => {
  const disk = { path: smallDisk(t, '4m') };
  const f = await fixture(t, { maildirRoot: disk.path });
  const alice = maildir(disk.path, 'alice', 3);
  const bob = maildir(disk.path, 'bob', 3);
  // A Maildir++ quota file: UPDATE appends to it, which a full disk refuses.
  writeFileSync(join(alice, 'maildirsize'), '100000000S,1000C\n');
  await f.db.addUser('alice', 'pw', alice);
  await f.db.addUser('bob', 'pw', bob);
  const a = await f.loggedIn('alice', 'pw');
  fill(disk.path);

  const b = await f.client();
  t.same(await b.login('bob', 'pw'), { ok: false, text: '[SYS/TEMP] maildrop cannot be opened now' }, 'bob: the lock cannot be written');
  await f.server.waitForLine(/maildrop cannot be locked user="bob".*ENOSPC/);
  t.same(readdirSync(bob).filter((n) => n.startsWith('.r2d2')), [], 'no empty lock file left behind');

  t.ok((await a.cmd('RETR 1')).ok, 'alice, logged in before: RETR works');
  t.ok((await a.cmd('DELE 1')).ok);
  t.same(await a.cmd('QUIT'), { ok: true, text: 'r2d2 signing off (1 message deleted)' }, 'alice: her deletion applies (unlink needs no space)');
  t.equal(count(alice), 2);

  rmSync(join(disk.path, 'filler'));
  t.ok((await b.login('bob', 'pw')).ok, 'space again: bob logs in, same session');
  t.equal(count(bob), 3, 'bob lost nothing');
});

// Found here: quitTransaction released the lock in a `finally` whose EROFS escaped: QUIT said
// "-ERR [SYS/TEMP] internal error", the session stayed in TRANSACTION, and the lock file stayed,
// so once the maildir was writable again other worker threads answered [IN-USE] (the holder
// thread is alive). Fixed in e7259e4: QUIT tells the truth, and the release is retried.
t.test('read-only maildir at UPDATE: QUIT says so, nothing is lost, and the maildrop is not left locked', skip, async (t) => {
  const root = smallDisk(t, '8m');
  const db = await TestDatabase.create();
  t.teardown(() => db.drop());
  const md = maildir(root, 'carol', 4);
  await db.addUser('carol', 'pw', md);
  // Two worker threads: the next logins may land on the thread that held the lock or the other.
  const server = await SpawnedServer.start(t, spawnedConfig(db.name, root, '', 2));
  const { client: c } = await Pop3Client.greeted(server.port());
  t.teardown(() => c.destroy());
  t.ok((await c.login('carol', 'pw')).ok);
  t.ok((await c.cmd('DELE 1')).ok);
  t.ok((await c.cmd('DELE 2')).ok);
  execFileSync('mount', ['-o', 'remount,ro', root]);
  t.same(await c.cmd('QUIT'), { ok: false, text: '[SYS/TEMP] some deleted messages not removed (2 of 2)' }, 'QUIT tells the truth');
  await c.waitClosed();
  await server.waitFor(/update done user="carol" deleted="0" failed="2"/);
  await server.waitFor(/maildrop lock not released now; retrying.*EROFS/);
  t.ok(await server.waitFor(/\[1\] disconnected: peer quit, sequence="upd2q"/), 'the session ended with its QUIT');
  execFileSync('mount', ['-o', 'remount,rw', root]);
  t.equal(count(md), 4, 'nothing lost');
  // The lock is lifted by its holder's retry: logins (on either worker thread) until one gets
  // the maildrop, within a bound far above the retry interval.
  const deadline = Date.now() + 30_000;
  let last = '';
  for (;;) {
    const { client } = await Pop3Client.greeted(server.port());
    const r = await client.login('carol', 'pw');
    last = r.ok ? 'ok' : r.text;
    if (r.ok) t.match((await client.cmd('STAT')).text, /^4 /, 'all four messages served');
    client.destroy();
    if (r.ok || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  t.equal(last, 'ok', 'the maildrop is served again: no lock left behind', { log: server.text });
  t.same(server.lines.filter((l) => l.includes('command failed')), [], 'no internal error');
});
