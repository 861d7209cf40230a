// The exclusive maildrop lock (RFC 1939 §8) across threads and processes of one host:
// `<maildir>/.r2d2.lock`, created with O_CREAT|O_EXCL, holding one line
//   `pid processStartTime threadId hostname nonce bootId/pidNamespace`
// (the last field is optional when read). Whether a lock found there is stale: lock-stale.ts;
// the file operations, and breaking a stale lock one breaker at a time: lock-files.ts. A held
// lock's mtime is refreshed every minute (lock-refresh.ts) for hosts that share the storage.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import type { LockAttempt, LockLiveness, MaildropLock } from './locker';
import { breakStale, create, createSync, LOCK_FILE, nonceIn, read, removeIfOurs, removeIfOursSync } from './lock-files';
import { host, identity, parse } from './lock-holder';
import { keepFresh } from './lock-refresh';
import { judge } from './lock-stale';

export type { LockLiveness, MaildropLock } from './locker';
export { LOCK_FILE } from './lock-files';

const CREATE_ATTEMPTS = 3;

/** Nonces of the locks this thread holds (module state is per thread). */
const held = new Set<string>();

/**
 * Takes the lock, or answers undefined when a live holder has it. Throws on I/O errors other
 * than contention (a missing or read-only maildir): the caller answers [SYS/TEMP].
 * Without `liveness`, a lock held by another thread of this process counts as alive.
 */
export async function lockMaildrop(maildir: string, liveness?: LockLiveness, blocking = false): Promise<MaildropLock | undefined> {
  const attempt = await tryLockMaildrop(maildir, liveness, blocking);
  return attempt.kind === 'locked' ? attempt.lock : undefined;
}

/** lockMaildrop, saying also when the holder is another host (a conflict the operator must hear of). */
export async function tryLockMaildrop(maildir: string, liveness?: LockLiveness, blocking = false): Promise<LockAttempt> {
  const path = join(maildir, LOCK_FILE);
  const me = await identity();
  const nonce = randomUUID();
  const line = `${process.pid} ${me.startTime} ${threadId} ${host()} ${nonce} ${me.scope}\n`;
  held.add(nonce); // before the file exists: a concurrent call in this thread must see it held
  let conflict: string | undefined;
  try {
    for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
      // The common case, an uncontended lock, takes one blocking open+write+close when allowed.
      if (blocking ? createSync(path, line) : await create(path, line)) return { kind: 'locked', lock: holding(path, nonce, blocking) };
      const seen = await read(path);
      if (seen === undefined) continue; // released meanwhile
      const judgement = await judge(seen, me, held, liveness);
      if (judgement.kind === 'foreign') conflict = `${judgement.who}: lock files do not hold across hosts; set maildrop_lock { backend = database }`;
      if (judgement.kind !== 'stale') break;
      if (!(await breakStale(path, seen, nonce))) break;
    }
  } catch (e) {
    held.delete(nonce);
    throw e;
  }
  held.delete(nonce);
  return conflict === undefined ? { kind: 'in-use' } : { kind: 'in-use', conflict };
}

/**
 * Who holds the lock file of `maildir` now, by the same rules as a locker: undefined when there
 * is none or it is stale. For the database backend, which takes no lock file but must not serve
 * a maildrop that a tool or host using lock files holds.
 */
export async function liveLockFile(maildir: string, liveness?: LockLiveness): Promise<string | undefined> {
  const path = join(maildir, LOCK_FILE);
  const seen = await read(path);
  if (seen === undefined) return undefined;
  const judgement = await judge(seen, await identity(), held, liveness);
  if (judgement.kind === 'stale') return undefined;
  if (judgement.kind === 'foreign') return judgement.who;
  const holder = parse(seen.content);
  return holder === undefined ? 'a lock file is being written' : `pid ${holder.pid} of this host holds a lock file`;
}

function holding(path: string, nonce: string, blocking: boolean): MaildropLock {
  let released = false;
  let lost: string | undefined;
  let settle: () => void = () => undefined;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  const stopRefreshing = keepFresh({ path, nonce, lost: (why) => (lost ??= why) });
  return {
    path,
    settled,
    get lost() {
      return lost;
    },
    async confirm(): Promise<boolean> {
      if (lost !== undefined || released) return false;
      try {
        if ((await nonceIn(path, blocking)) === nonce) return true;
        lost = 'the lock file was removed or replaced by another holder';
      } catch {
        // cannot be read now: not confirmed
      }
      return false;
    },
    async release(): Promise<void> {
      if (released) return;
      released = true;
      stopRefreshing();
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

function retryRelease(path: string, nonce: string, attempt: number, settle: () => void): void {
  const done = (): void => {
    held.delete(nonce);
    settle();
  };
  setTimeout(() => {
    removeIfOurs(path, nonce).then(done, () => (attempt + 1 < RELEASE_RETRIES ? retryRelease(path, nonce, attempt + 1, settle) : done()));
  }, RELEASE_RETRY_MS).unref();
}
