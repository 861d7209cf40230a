// Whether a maildrop lock file (lock-files.ts) still has a live holder. On this host the holder's
// pid and start time tell; a lock from another host (same maildir on shared storage) or another
// container cannot be checked that way, but every live lock is refreshed (its mtime) each
// LOCK_REFRESH_MS while held (lock-refresh.ts), so one left untouched for FOREIGN_STALE_MS
// belongs to a holder that is gone. A live lock of another host is a configuration error --
// `backend = local` does not hold across hosts -- and is reported as a conflict.
import { uptime } from 'node:os';
import { threadId } from 'node:worker_threads';
import type { LockLiveness } from './locker';
import { host, parse, processStartTime } from './lock-holder';
import type { Seen } from './lock-files';

/** How often a held lock file's mtime is refreshed. */
export const LOCK_REFRESH_MS = 60_000;
/** A lock of another host or container, untouched this long (ten refreshes missed), is stale. */
export const FOREIGN_STALE_MS = 10 * LOCK_REFRESH_MS;
/** An unparseable lock (a locker killed between create and write) is stale after this long. */
const UNPARSEABLE_STALE_MS = 60_000;

export type Judgement =
  | { readonly kind: 'stale' }
  | { readonly kind: 'live' }
  /** Live, and held on another machine (shared storage with lock files): `who` says which. */
  | { readonly kind: 'foreign'; readonly who: string };

const STALE: Judgement = { kind: 'stale' };
const LIVE: Judgement = { kind: 'live' };

/** `held`: the nonces this thread holds; `me`: our start time and `bootId/pidNamespace`. */
export async function judge(
  seen: Seen,
  me: { startTime: string; scope: string },
  held: ReadonlySet<string>,
  liveness?: LockLiveness,
): Promise<Judgement> {
  const age = Date.now() - seen.mtimeMs;
  const lock = parse(seen.content);
  if (lock === undefined) return age > UNPARSEABLE_STALE_MS ? STALE : LIVE;
  const [bootId = '-', pidNs = '-'] = (lock.scope ?? '-/-').split('/');
  const [myBootId = '-', myPidNs = '-'] = me.scope.split('/');
  const otherHost = lock.host !== host();
  const otherBoot = bootId !== myBootId && bootId !== '-' && myBootId !== '-';
  if (otherHost || otherBoot) {
    // Our host name and an earlier boot: left by a holder from before our reboot, if untouched since.
    if (!otherHost && seen.mtimeMs < bootTimeMs()) return STALE;
    if (age > FOREIGN_STALE_MS) return STALE;
    const machine = otherHost ? `host ${lock.host}` : `another machine named ${lock.host} (boot ${bootId.slice(0, 8)})`;
    return { kind: 'foreign', who: `${machine} holds its lock file (pid ${lock.pid}, ${Math.round(age / 1000)} s ago)` };
  }
  // Another container on this kernel: pids are not ours to check, but its refreshes are.
  if (lock.scope !== undefined && pidNs !== myPidNs) return age > FOREIGN_STALE_MS ? STALE : LIVE;
  if (lock.pid === process.pid) {
    if (lock.startTime !== me.startTime) return STALE; // an earlier process with our pid
    if (lock.threadId === threadId) return held.has(lock.nonce) ? LIVE : STALE;
    return liveness !== undefined && !liveness.isThreadAlive(lock.pid, lock.threadId) ? STALE : LIVE;
  }
  const running = await processStartTime(lock.pid);
  const dead = running === undefined || (running !== '-' && lock.startTime !== '-' && running !== lock.startTime);
  return dead ? STALE : LIVE;
}

/** When this machine booted (ms since the epoch), to a second or so. */
function bootTimeMs(): number {
  return Date.now() - uptime() * 1000;
}
