// The file operations of the maildrop lock (lock.ts): create with O_EXCL, read without following
// a symlink, remove only our own, and break a stale lock under a guard so that breakers take turns.
import { closeSync, constants, openSync, readFileSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { link, lstat, open, readFile, rename, unlink } from 'node:fs/promises';
import { parse } from './lock-holder';
import { errnoCode } from './util';

export const LOCK_FILE = '.r2d2.lock';
/** A breaker holds its guard for a read and an unlink; one older than this was left by a kill. */
const BREAK_GUARD_STALE_MS = 10_000;
/** A lock that is a symlink is never read through (O_EXCL already never creates through one). */
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW;

/** A lock file as read: its line, inode and last change. */
export interface Seen {
  readonly content: string;
  readonly ino: number;
  readonly mtimeMs: number;
}

/** One open(O_CREAT|O_EXCL|O_WRONLY, 0600) + write + close. False when the lock exists. */
export async function create(path: string, line: string): Promise<boolean> {
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

/** create() with blocking calls: ~10 us on a local disk against ~100 us of thread-pool trips. */
export function createSync(path: string, line: string): boolean {
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

export async function read(path: string): Promise<Seen | undefined> {
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

/** The nonce in the lock file now: undefined when there is none (or it is not a lock line). */
export async function nonceIn(path: string, blocking: boolean): Promise<string | undefined> {
  try {
    const content = blocking ? readNoFollowSync(path) : await readFile(path, { encoding: 'utf8', flag: READ_FLAGS });
    return parse(content)?.nonce;
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT' || code === 'ELOOP') return undefined;
    throw e;
  }
}

export async function removeIfOurs(path: string, nonce: string): Promise<void> {
  try {
    if (parse(await readFile(path, { encoding: 'utf8', flag: READ_FLAGS }))?.nonce === nonce) await unlink(path);
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw e;
  }
}

export function removeIfOursSync(path: string, nonce: string): void {
  try {
    if (parse(readNoFollowSync(path))?.nonce === nonce) unlinkSync(path);
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw e;
  }
}

/** A lock line is far shorter: one read(2) takes it (readFileSync would fstat and read to EOF). */
const LINE_BUFFER_OCTETS = 1024;

function readNoFollowSync(path: string): string {
  const fd = openSync(path, READ_FLAGS);
  try {
    const buffer = Buffer.allocUnsafe(LINE_BUFFER_OCTETS);
    const n = readSync(fd, buffer, 0, buffer.length, null);
    // A full buffer is no lock line of ours, but is read whole all the same.
    return n < buffer.length ? buffer.toString('utf8', 0, n) : Buffer.concat([buffer, readFileSync(fd)]).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Removes the stale lock we judged, under a guard file (O_EXCL) so that breakers take turns: a
 * breaker acting on an old reading could otherwise remove a fresh lock that another breaker had
 * just made. Under the guard the lock is read again and removed only if it is still the same
 * file (inode, mtime, content). A guard left by a breaker killed within those few syscalls is
 * removed once older than BREAK_GUARD_STALE_MS. True when creating may be tried again.
 */
export async function breakStale(path: string, seen: Seen, nonce: string): Promise<boolean> {
  const guard = `${path}.break`;
  if (!(await create(guard, `${process.pid} ${nonce}\n`))) {
    const old = await read(guard);
    return old === undefined || (Date.now() - old.mtimeMs > BREAK_GUARD_STALE_MS && (await removeIfSame(guard, old, nonce)));
  }
  try {
    const now = await read(path);
    if (now === undefined) return true; // released meanwhile
    if (!same(now, seen)) return true; // replaced (or refreshed) meanwhile: judge it again
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
