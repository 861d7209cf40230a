import type { OpenedFolders } from './folders';
import { scanFolders, type Snapshot } from './scan';

/**
 * Reuses the snapshot of a maildrop while neither new/ nor cur/ nor the imported-UIDL index
 * (uidl-index.ts) has changed: a login on 50,000 messages then costs two fstat() calls and one
 * lstat() instead of reading and sorting 50,000 names
 * (Dovecot keeps an index for the same reason). Any delivery, deletion or rename in either
 * folder changes its mtime, and the next login scans again. Small maildrops are cached too: a
 * client polling a maildrop with no new mail is the common login, and two listings and 50 names
 * parsed cost more than the three stat calls (bench, 50 messages: 0.41-0.46x Dovecot's CPU per
 * login against 0.47-0.55x when only maildrops of 1,000 messages or more were cached).
 *
 * A snapshot is kept only when both folders (and the index) were last changed at least
 * TRUST_AFTER_MS before the scan began, as stamped after it: a change within the same timestamp
 * tick as the scan could otherwise leave the mtime as it was. Snapshots are immutable (deletion marks live in each session), so sessions
 * may share one. One cache per thread, bounded by the number of entries it holds.
 */
export const CACHE_MIN_MESSAGES = 1;
export const TRUST_AFTER_MS = 2000;
/** Per thread: about 200 octets a message and 300 a maildrop, so some 80 MB and 6 MB at most. */
const MAX_CACHED_ENTRIES = 400_000;
const MAX_CACHED_MAILDROPS = 20_000;

interface Cached {
  readonly snapshot: Snapshot;
  readonly stamp: string;
}

const cache = new Map<string, Cached>();
let cachedEntries = 0;

/**
 * The snapshot of the maildrop `key` (its path as the accounts store gave it), from the folders a
 * session opened: reused while the stamps of those very folders (fstat, so a folder swapped since
 * is a different inode) are unchanged.
 */
export async function scanMaildropCached(key: string, folders: OpenedFolders, now: () => number = Date.now): Promise<Snapshot> {
  const started = now();
  // Stamps are taken only where a snapshot is cached or may be: an empty maildrop pays for its
  // (short) scan alone, not for three stat calls more.
  const hit = cache.get(key);
  if (hit !== undefined) {
    const before = await folders.stamp().catch(() => undefined); // let the scan report what is wrong
    if (before !== undefined && hit.stamp === before.stamp) {
      cache.delete(key); // most recently used last
      cache.set(key, hit);
      return hit.snapshot;
    }
    forget(key);
  }
  const snapshot = await scanFolders(folders, folders.blocking);
  if (snapshot.messages.length < CACHE_MIN_MESSAGES) return snapshot;
  // Stamped after the scan: any change since TRUST_AFTER_MS before it began -- during the scan
  // included -- shows in the stamp's times, and the snapshot is then not kept.
  const after = await folders.stamp().catch(() => undefined);
  if (after !== undefined && started - after.changedMs >= TRUST_AFTER_MS) {
    cache.set(key, { snapshot, stamp: after.stamp });
    cachedEntries += snapshot.messages.length;
    evict();
  }
  return snapshot;
}

function forget(maildir: string): void {
  const old = cache.get(maildir);
  if (old === undefined) return;
  cache.delete(maildir);
  cachedEntries -= old.snapshot.messages.length;
}

/** Least recently used first, until both bounds hold. */
function evict(): void {
  for (const [key, value] of cache) {
    if (cachedEntries <= MAX_CACHED_ENTRIES && cache.size <= MAX_CACHED_MAILDROPS) return;
    cache.delete(key);
    cachedEntries -= value.snapshot.messages.length;
  }
}
