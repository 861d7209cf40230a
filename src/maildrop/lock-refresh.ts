// Held lock files are touched (mtime) every LOCK_REFRESH_MS, so that a host reading them on
// shared storage, which cannot ask our pids, never judges a live lock stale (lock-stale.ts).
// One timer per thread for all its locks; a lock found no longer ours is reported lost.
import { lutimes } from 'node:fs/promises';
import { nonceIn } from './lock-files';
import { LOCK_REFRESH_MS } from './lock-stale';

interface Refreshed {
  readonly path: string;
  readonly nonce: string;
  readonly lost: (why: string) => void;
}

const refreshed = new Set<Refreshed>();
let timer: NodeJS.Timeout | undefined;

/** Keeps `lock` fresh until the returned function is called (at release). */
export function keepFresh(lock: Refreshed): () => void {
  refreshed.add(lock);
  timer ??= setInterval(() => void refreshAll(), LOCK_REFRESH_MS).unref();
  return () => {
    refreshed.delete(lock);
    if (refreshed.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}

async function refreshAll(): Promise<void> {
  for (const lock of [...refreshed]) {
    try {
      if ((await nonceIn(lock.path, false)) !== lock.nonce) {
        refreshed.delete(lock);
        lock.lost('the lock file was removed or replaced by another holder');
        continue;
      }
      const now = new Date();
      await lutimes(lock.path, now, now);
    } catch {
      // An I/O error (a network file system gone for a moment): tried again next time; a lock
      // file left untouched for ten refreshes is what makes it stale, not one miss.
    }
  }
}

/** For tests: refresh every held lock now. */
export const refreshHeldLocks = refreshAll;
