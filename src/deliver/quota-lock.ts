// The quota's critical section -- read the usage, link into new/, append to maildirsize -- runs
// under `<maildir>/maildirsize.lock`, the dotlock name Dovecot's Maildir++ quota uses, so that
// parallel deliveries (one process or many) cannot all pass a check only some of them fit.
// The lock is a file created with O_EXCL holding `<pid>:<host>` (Dovecot's form) and a second
// line `<nonce> <pid namespace>`. It is held for milliseconds; a holder that died leaves it, so:
// on this host and pid namespace it is stale once the pid is gone (or after LOCAL_STALE_MS, a
// hung holder); from another host, another namespace or unreadable, after FOREIGN_STALE_MS.
import { constants } from 'node:fs';
import { lstat, open, readlink, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { OpenDir } from '../maildrop/open-dir';
import { uniqueHex } from '../maildrop/lazy-crypto';
import { errnoCode } from '../maildrop/util';
import { DeliveryError, EX_TEMPFAIL } from './sysexits';
import { tempfail } from './maildir-write';

export const QUOTA_LOCK = 'maildirsize.lock';
/** A delivery waits this long for the lock, then answers 75 (the MTA retries). */
export const QUOTA_LOCK_WAIT_MS = 20_000;
const FOREIGN_STALE_MS = 30_000;
const LOCAL_STALE_MS = 10 * 60_000;
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

export interface QuotaLock {
  release(): Promise<void>;
}

interface Seen {
  readonly content: string;
  readonly ino: number;
  readonly mtimeMs: number;
}

let pidNamespace: Promise<string> | undefined;
const ownNamespace = (): Promise<string> => (pidNamespace ??= readlink('/proc/self/ns/pid').catch(() => '-'));

/** Per maildir, the last delivery of this process in line for the lock: they queue here, not on the file. */
const inProcess = new Map<string, Promise<void>>();

/** Takes the lock in the opened maildir `dir` (shown as `shown` in messages); DeliveryError 75 after `waitMs`. */
export async function lockQuota(dir: OpenDir, shown: string, waitMs = QUOTA_LOCK_WAIT_MS): Promise<QuotaLock> {
  const deadline = Date.now() + waitMs;
  const before = inProcess.get(shown) ?? Promise.resolve();
  let done: () => void = () => undefined;
  const mine = new Promise<void>((resolve) => (done = resolve));
  const tail = before.then(() => mine);
  inProcess.set(shown, tail);
  const leave = (): void => {
    done();
    if (inProcess.get(shown) === tail) inProcess.delete(shown);
  };
  try {
    await waitUntil(before, deadline, shown, waitMs);
    const lock = await lockFile(dir, shown, deadline, waitMs);
    return {
      release: async () => {
        try {
          await lock.release();
        } finally {
          leave();
        }
      },
    };
  } catch (e) {
    leave();
    throw e;
  }
}

async function waitUntil(turn: Promise<void>, deadline: number, shown: string, waitMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(gaveUp(shown, 'this process', waitMs)), Math.max(0, deadline - Date.now()));
  });
  try {
    await Promise.race([turn, late]);
  } finally {
    clearTimeout(timer);
  }
}

function gaveUp(shown: string, holder: string, waitMs: number): DeliveryError {
  return new DeliveryError(EX_TEMPFAIL, `${join(shown, QUOTA_LOCK)} is held (by ${holder}): gave up after ${waitMs / 1000} s`);
}

async function lockFile(dir: OpenDir, shown: string, deadline: number, waitMs: number): Promise<QuotaLock> {
  const path = dir.at(QUOTA_LOCK);
  // Tells our lock from another holder's: unique is enough (the lock is no secret).
  const nonce = `${process.pid}.${process.hrtime.bigint()}.${uniqueHex()}`;
  const namespace = await ownNamespace();
  const content = `${process.pid}:${hostname()}\n${nonce} ${namespace}\n`;
  for (let pause = 1; ; pause = Math.min(pause * 2, 20)) {
    if (await create(path, content, shown)) return { release: () => releaseIfOurs(path, nonce) };
    const seen = await read(path);
    if (seen === undefined) continue; // released meanwhile: try again at once
    if (isStale(seen, namespace, Date.now())) {
      await breakStale(path, seen);
      continue;
    }
    if (Date.now() >= deadline) {
      throw gaveUp(shown, JSON.stringify(seen.content.split('\n')[0] ?? ''), waitMs);
    }
    await new Promise((resolve) => setTimeout(resolve, pause * (0.5 + Math.random())));
  }
}

async function create(path: string, content: string, shown: string): Promise<boolean> {
  let file;
  try {
    file = await open(path, CREATE_FLAGS, 0o600);
  } catch (e) {
    if (errnoCode(e) === 'EEXIST') return false;
    throw tempfail(`cannot create ${join(shown, QUOTA_LOCK)}`, e);
  }
  try {
    await file.write(content);
  } finally {
    await file.close();
  }
  return true;
}

/** The lock as it is now; undefined when there is none. A symlink or non-file reads as empty (unparseable). */
async function read(path: string): Promise<Seen | undefined> {
  const st = await lstat(path).catch((e: unknown) => {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw e;
  });
  if (st === undefined) return undefined;
  let content = '';
  if (st.isFile()) {
    const file = await open(path, READ_FLAGS).catch(() => undefined);
    if (file !== undefined) {
      const buffer = Buffer.alloc(512);
      const { bytesRead } = await file.read(buffer, 0, buffer.length, 0).finally(() => file.close());
      content = buffer.subarray(0, bytesRead).toString('utf8');
    }
  }
  return { content, ino: st.ino, mtimeMs: st.mtimeMs };
}

function isStale(seen: Seen, namespace: string, now: number): boolean {
  const age = now - seen.mtimeMs;
  const [first = '', second = ''] = seen.content.split('\n');
  const m = /^(\d{1,10}):(.+)$/.exec(first);
  const theirNamespace = second.split(' ')[1];
  if (m === null || m[2] !== hostname() || (theirNamespace !== undefined && theirNamespace !== namespace)) return age > FOREIGN_STALE_MS;
  return !isAlive(Number(m[1])) || age > LOCAL_STALE_MS;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoCode(e) === 'EPERM'; // alive, another user's
  }
}

/**
 * Removes the lock judged stale, unless it changed since (another breaker got there first and a
 * new holder took it). The window between that check and the unlink is a few microseconds, and
 * only a holder that died opens it.
 */
async function breakStale(path: string, seen: Seen): Promise<void> {
  const now = await lstat(path).catch(() => undefined);
  if (now === undefined || now.ino !== seen.ino || now.mtimeMs !== seen.mtimeMs) return;
  await unlink(path).catch((e: unknown) => {
    if (errnoCode(e) !== 'ENOENT') throw e;
  });
}

async function releaseIfOurs(path: string, nonce: string): Promise<void> {
  const seen = await read(path).catch(() => undefined);
  if (seen === undefined || !seen.content.includes(nonce)) return; // broken as stale meanwhile: not ours to remove
  await unlink(path).catch(() => undefined);
}
