// The exclusive maildrop lock (RFC 1939 §8) as sessions and tools take it, whatever keeps it:
// lock files in the maildir (lock.ts: the threads and processes of one host) or a lease row in
// a database shared by several hosts (src/lease, injected from above: maildrop/ imports no
// database code). c11n `maildrop_lock { backend = local | database }` chooses.
import type { Logger } from 'pino';
import { tryLockMaildrop } from './lock';

export interface MaildropLock {
  /** The lock file, or the maildir a lease is for (for log lines). */
  readonly path: string;
  /**
   * Why the lock may no longer be ours -- a lease not renewed in time or taken by another host,
   * a lock file removed or replaced -- or undefined while it holds.
   */
  readonly lost: string | undefined;
  /**
   * Before UPDATE: makes sure the lock is still ours (a lease is renewed for a full term, a lock
   * file still holds our line). False when it is not, or when that cannot be told now: then no
   * message may be removed.
   */
  confirm(): Promise<boolean>;
  release(): Promise<void>;
  /** Resolves once the lock is gone (or left to expire): a failed release is retried until then. */
  readonly settled: Promise<void>;
}

/** For worker threads in this process: is thread `threadId` of our process (`pid`) still running? */
export interface LockLiveness {
  isThreadAlive(pid: number, threadId: number): boolean;
}

export interface LockRequest {
  /** The maildir: its path, or the /proc/self/fd path of the directory a session opened. */
  readonly dir: string;
  /** The maildir's canonical path (a lease's key), asked only by backends that need it. */
  readonly canonical: () => Promise<string> | string;
  /** Who asks, for a lease row and for log lines: `session 42`, `r2d2 maildir fix`. */
  readonly holder: string;
  /** Small file operations may block the thread (local disks). */
  readonly blocking: boolean;
  /** Locks held by other worker threads of this process; without it they count as alive. */
  readonly liveness?: LockLiveness | undefined;
  /** The session's logger: a lease that expires or is lost is said there. */
  readonly log?: Logger | undefined;
}

export type LockAttempt =
  | { readonly kind: 'locked'; readonly lock: MaildropLock }
  /**
   * Held by another session. `conflict` is set when the holder shows a configuration error that
   * the operator must hear about: a lock file of another host on shared storage (backend local
   * on several hosts), or a lock file where every host should take database leases.
   */
  | { readonly kind: 'in-use'; readonly conflict?: string };

export interface MaildropLocker {
  readonly backend: 'local' | 'database';
  /** Takes the lock, or says who holds it. Throws when it cannot be asked (I/O error, database down). */
  lock(request: LockRequest): Promise<LockAttempt>;
  /** Releases what the backend holds open (a database pool), once every lock is released. */
  close(): Promise<void>;
}

/** Lock files in the maildir: right for one host (or containers on one kernel). */
export const LOCAL_LOCKER: MaildropLocker = {
  backend: 'local',
  lock: (request) => tryLockMaildrop(request.dir, request.liveness, request.blocking),
  close: async () => undefined,
};
