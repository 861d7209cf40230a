// The exclusive maildrop lock (RFC 1939 §8) across threads and processes of one host:
// `<maildir>/.r2d2.lock`, created with O_CREAT|O_EXCL, holding one line
//   `pid processStartTime threadId hostname nonce bootId/pidNamespace`
// (the last field is optional when read). The holder's pid and start time (/proc/<pid>/stat
// field 22) tell a dead or reused pid; the boot id tells a lock left over from before a reboot;
// the pid namespace tells another container on this kernel, whose pids mean nothing here.
// Stale locks are removed by one breaker at a time, under `.r2d2.lock.break` (see breakStale).
import { randomUUID } from 'node:crypto';
import { closeSync, constants, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { link, lstat, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { host, identity, parse, processStartTime } from './lock-holder';
import { errnoCode } from './util';

export interface MaildropLock {
  readonly path: string;
  release(): Promise<void>;
  /** Resolves once the lock file is gone (or left to the stale rules): a failed release is retried until then. */
  readonly settled: Promise<void>;
}

/** For worker threads in this process: is thread `threadId` of our process (`pid`) still running? */
export interface LockLiveness {
  isThreadAlive(pid: number, threadId: number): boolean;
}

export const LOCK_FILE = '.r2d2.lock';
/** An unparseable lock (a locker killed between create and write) is stale after this long. */
const UNPARSEABLE_STALE_MS = 60_000;
/** A lock from another host (or pid namespace) cannot be checked; it is stale after an hour. */
const FOREIGN_STALE_MS = 3_600_000;
/** A breaker holds its guard for a read and an unlink; one older than this was left by a kill. */
const BREAK_GUARD_STALE_MS = 10_000;
const CREATE_ATTEMPTS = 3;
/** A lock that is a symlink is never read through (O_EXCL already never creates through one). */
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW;

/** Nonces of the locks this thread holds (module state is per thread). */
const held = new Set<string>();


interface Seen { content: string; ino: number; mtimeMs: number }

/**
 * Takes the lock, or answers undefined when a live holder has it. Throws on I/O errors other
 * than contention (a missing or read-only maildir): the caller answers [SYS/TEMP].
 * Without `liveness`, a lock held by another thread of this process counts as alive.
 */
export async function lockMaildrop(maildir: string, liveness?: LockLiveness, blocking = false): Promise<MaildropLock | undefined> {
  const path = join(maildir, LOCK_FILE);
  const me = await identity();
  const nonce = randomUUID();
  const line = `${process.pid} ${me.startTime} ${threadId} ${host()} ${nonce} ${me.scope}\n`;
  held.add(nonce); // before the file exists: a concurrent call in this thread must see it held
  try {
    for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
      // The common case, an uncontended lock, takes one blocking open+write+close when allowed.
      if (blocking ? createSync(path, line) : await create(path, line)) return holding(path, nonce, blocking);
      const seen = await read(path);
      if (seen === undefined) continue; // released meanwhile
      if (!(await isStale(seen, me, liveness))) break;
      if (!(await breakStale(path, seen, nonce))) break;
    }
  } catch (e) {
    held.delete(nonce);
    throw e;
  }
  held.delete(nonce);
  return undefined;
}

function holding(path: string, nonce: string, blocking: boolean): MaildropLock {
  let released = false;
  let settle: () => void = () => undefined;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  return {
    path,
    settled,
    async release(): Promise<void> {
      if (released) return;
      released = true;
      try {
        if (blocking) removeIfOursSync(path, nonce);
        else await removeIfOurs(path, nonce);
        held.delete(nonce);
        settle();
      } catch (e) {
        // A read-only or failing maildir: the lock stays ours (held) and is removed as soon as
        // the file system lets us, so no thread is left facing a lock nobody will lift.
        retryRelease(path, nonce, 0, settle);
        throw e;
      }
    },
  };
}

/** Release retries: every few seconds for an hour, then the lock is left to the stale rules. */
const RELEASE_RETRY_MS = 2000;
const RELEASE_RETRIES = 1800;

async function removeIfOurs(path: string, nonce: string): Promise<void> {
  try {
    if (parse(await readFile(path, { encoding: 'utf8', flag: READ_FLAGS }))?.nonce === nonce) await unlink(path);
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw e;
  }
}

function removeIfOursSync(path: string, nonce: string): void {
  try {
    if (parse(readNoFollowSync(path))?.nonce === nonce) unlinkSync(path);
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw e;
  }
}

function readNoFollowSync(path: string): string {
  const fd = openSync(path, READ_FLAGS);
  try {
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** create() with blocking calls: ~10 us on a local disk against ~100 us of thread-pool trips. */
function createSync(path: string, line: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (e) {
    if (errnoCode(e) === 'EEXIST') return false;
    throw e;
  }
  try {
    writeSync(fd, line);
    closeSync(fd);
    return true;
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    try {
      unlinkSync(path); // ours: created by the open above
    } catch {
      // gone already
    }
    throw e;
  }
}

function retryRelease(path: string, nonce: string, attempt: number, settle: () => void): void {
  const done = (): void => {
    held.delete(nonce);
    settle();
  };
  setTimeout(() => {
    removeIfOurs(path, nonce).then(done, () => (attempt + 1 < RELEASE_RETRIES ? retryRelease(path, nonce, attempt + 1, settle) : done()));
  }, RELEASE_RETRY_MS).unref();
}

/** One open(O_CREAT|O_EXCL|O_WRONLY, 0600) + write + close. False when the lock exists. */
async function create(path: string, line: string): Promise<boolean> {
  let file;
  try {
    file = await open(path, 'wx', 0o600);
  } catch (e) {
    if (errnoCode(e) === 'EEXIST') return false;
    throw e;
  }
  try {
    await file.writeFile(line);
    await file.close();
    return true;
  } catch (e) {
    await file.close().catch(() => undefined);
    await unlink(path).catch(() => undefined); // ours: created by the open above
    throw e;
  }
}

async function read(path: string): Promise<Seen | undefined> {
  let file;
  try {
    file = await open(path, READ_FLAGS);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    if (errnoCode(e) !== 'ELOOP') throw e;
    // A symlink where the lock belongs is no lock of ours: unparseable, so stale after a minute.
    const link = await lstat(path).catch(() => undefined);
    return link === undefined ? undefined : { content: '', ino: link.ino, mtimeMs: link.mtimeMs };
  }
  try {
    const { ino, mtimeMs } = await file.stat();
    return { content: await file.readFile('utf8'), ino, mtimeMs };
  } finally {
    await file.close();
  }
}

async function isStale(seen: Seen, me: { startTime: string; scope: string }, liveness?: LockLiveness): Promise<boolean> {
  const age = Date.now() - seen.mtimeMs;
  const lock = parse(seen.content);
  if (lock === undefined) return age > UNPARSEABLE_STALE_MS;
  if (lock.host !== host()) return age > FOREIGN_STALE_MS;
  if (lock.scope !== undefined && lock.scope !== me.scope) {
    const [bootId, pidNs] = lock.scope.split('/');
    const [myBootId, myPidNs] = me.scope.split('/');
    if (bootId !== myBootId && bootId !== '-' && myBootId !== '-') return true; // from before a reboot
    if (pidNs !== myPidNs) return age > FOREIGN_STALE_MS;
  }
  if (lock.pid === process.pid) {
    if (lock.startTime !== me.startTime) return true; // an earlier process with our pid
    if (lock.threadId === threadId) return !held.has(lock.nonce);
    return liveness !== undefined && !liveness.isThreadAlive(lock.pid, lock.threadId);
  }
  const running = await processStartTime(lock.pid);
  return running === undefined || (running !== '-' && lock.startTime !== '-' && running !== lock.startTime);
}

/**
 * Removes the stale lock we judged, under a guard file (O_EXCL) so that breakers take turns: a
 * breaker acting on an old reading could otherwise remove a fresh lock that another breaker had
 * just made. Under the guard the lock is read again and removed only if it is still the same
 * file (inode, mtime, content). A guard left by a breaker killed within those few syscalls is
 * removed once older than BREAK_GUARD_STALE_MS. True when creating may be tried again.
 */
async function breakStale(path: string, seen: Seen, nonce: string): Promise<boolean> {
  const guard = `${path}.break`;
  if (!(await create(guard, `${process.pid} ${nonce}\n`))) {
    const old = await read(guard);
    return old === undefined || (Date.now() - old.mtimeMs > BREAK_GUARD_STALE_MS && (await removeIfSame(guard, old, nonce)));
  }
  try {
    const now = await read(path);
    if (now === undefined) return true; // released meanwhile
    if (!same(now, seen)) return true; // replaced meanwhile: judge the new one
    await unlink(path);
    return true;
  } finally {
    await unlink(guard).catch(() => undefined);
  }
}

/**
 * For the guard only: moves it aside, and puts it back with link() if what moved is not what we
 * judged (link fails if yet another guard exists: two breakers may then overlap -- it takes a
 * killed breaker and three contenders at once).
 */
async function removeIfSame(path: string, seen: Seen, nonce: string): Promise<boolean> {
  const aside = `${path}.${nonce}`;
  try {
    await rename(path, aside);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return true;
    throw e;
  }
  const moved = await read(aside);
  const ok = moved !== undefined && same(moved, seen);
  if (!ok) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
  return ok;
}

const same = (a: Seen, b: Seen): boolean => a.ino === b.ino && a.mtimeMs === b.mtimeMs && a.content === b.content;

