// Opening a maildrop for a login, in one call: the maildir opened (folders.ts), checked against
// maildir_root on the directory actually opened, locked (by the configured backend: locker.ts),
// scanned (through the snapshot cache); the lock and the folders released on any failure.
import type { Logger } from 'pino';
import { OpenedFolders, SymlinkedFolderError } from './folders';
import type { FileIo } from './io-policy';
import { LOCAL_LOCKER, type LockLiveness, type MaildropLock, type MaildropLocker } from './locker';
import { OpenedMaildrop } from './opened-maildrop';
import { isInside, realRoot } from './paths';
import { scanMaildropCached } from './snapshot-cache';

export interface MaildropRequest {
  /** The maildir as the accounts store gave it: absolute. */
  readonly maildir: string;
  /** maildir_root: when set, the opened maildir must really be inside it, symlinks followed. */
  readonly root: string | undefined;
  readonly io: FileIo;
  /** For locks held by other worker threads of this process. */
  readonly liveness: LockLiveness | undefined;
  /** Where the lock lives (c11n maildrop_lock); lock files in the maildir by default. */
  readonly locker?: MaildropLocker | undefined;
  /** Who asks, for a database lease row: `session 42`. */
  readonly holder?: string | undefined;
  /** The session's logger: file-level warnings (a message that cannot be read) go there. */
  readonly log: Logger;
  /** Told how long the lock (opening the maildir included) and the scan took, for metrics. */
  readonly timed?: (stage: FailedStage, seconds: number) => void;
}

/** Where an opening failed: the maildir or its lock, or its folders and listing. */
export type FailedStage = 'lock' | 'scan';

export type MaildropOpening =
  | { readonly kind: 'opened'; readonly drop: OpenedMaildrop }
  /**
   * Another session holds the lock (RFC 2449 [IN-USE]); `conflict` says when that holder shows a
   * configuration error (lock files of another host on shared storage) to log loudly.
   */
  | { readonly kind: 'in-use'; readonly conflict?: string }
  /**
   * Not served: `permanent` when only the operator can fix it (outside maildir_root, a symlinked
   * folder, not a maildir); otherwise a failure worth retrying (`error` is for the log only).
   */
  | { readonly kind: 'unavailable'; readonly permanent: boolean; readonly stage: FailedStage; readonly reason: string; readonly error?: unknown };

const failed = (stage: FailedStage, reason: string, error: unknown): MaildropOpening => ({ kind: 'unavailable', permanent: false, stage, reason, error });
const refused = (stage: FailedStage, reason: string): MaildropOpening => ({ kind: 'unavailable', permanent: true, stage, reason });

export async function openMaildrop(request: MaildropRequest): Promise<MaildropOpening> {
  const { maildir, io } = request;
  let started = performance.now();
  const timed = (stage: FailedStage): void => {
    const now = performance.now();
    request.timed?.(stage, (now - started) / 1000);
    started = now;
  };
  let rootFd: number;
  try {
    rootFd = await OpenedFolders.openRoot(maildir, io.blocking);
  } catch (error) {
    return failed('lock', 'the maildir cannot be opened', error);
  }
  let folders: OpenedFolders;
  try {
    folders = await OpenedFolders.within(rootFd, io.blocking);
  } catch (error) {
    if (error instanceof SymlinkedFolderError) return refused('scan', error.message);
    return failed('scan', 'a folder of the maildir cannot be opened', error);
  }
  const refusal = await refusalOf(folders, request.root);
  if (refusal !== undefined) {
    folders.close();
    return refused(refusal.stage, refusal.reason);
  }
  let lock: MaildropLock;
  try {
    const attempt = await (request.locker ?? LOCAL_LOCKER).lock({
      dir: folders.root,
      canonical: () => folders.realPath(),
      holder: request.holder ?? 'a session',
      blocking: io.blocking,
      liveness: request.liveness,
      log: request.log,
    });
    if (attempt.kind === 'in-use') {
      folders.close();
      return attempt;
    }
    lock = attempt.lock;
  } catch (error) {
    folders.close();
    return failed('lock', 'the lock cannot be taken', error);
  } finally {
    timed('lock');
  }
  try {
    const snapshot = await scanMaildropCached(maildir, folders);
    // Served with r2d2's own unique-ids meanwhile: clients that keep mail may fetch it again.
    if (snapshot.uidlIndexProblem !== undefined) request.log.warn({ maildir, problem: snapshot.uidlIndexProblem }, 'imported-UIDL index r2d2-uidls not used');
    timed('scan');
    return { kind: 'opened', drop: new OpenedMaildrop(maildir, folders, lock, snapshot, io, request.log) };
  } catch (error) {
    timed('scan');
    const held = lock;
    void held.settled.then(() => folders.close());
    // The scan's error is what the login reports; a lock that cannot be removed now is retried.
    await held.release().catch((releaseError: unknown) => request.log.error({ err: releaseError }, 'maildrop lock not released now; retrying'));
    return failed('scan', 'the maildrop cannot be listed', error);
  }
}

/** Why an opened maildir must not be served, if it must not. */
async function refusalOf(folders: OpenedFolders, root: string | undefined): Promise<{ stage: FailedStage; reason: string } | undefined> {
  if (root !== undefined) {
    const [real, rootReal] = await Promise.all([folders.realPath(), realRoot(root)]);
    if (!isInside(real, rootReal)) return { stage: 'lock', reason: 'maildir resolves outside maildir_root' };
  }
  // Without maildir_root a row could name any directory (`/etc`): only a maildir is locked and served.
  if (folders.new === undefined && folders.cur === undefined) return { stage: 'scan', reason: 'not a maildir (no new/ and no cur/)' };
  return undefined;
}

/**
 * For tools (`r2d2 auth test`): why a login would not be served this maildir, without locking
 * it; undefined when it would be, or when it cannot be opened at all (the login says so).
 */
export async function refusalOfMaildir(maildir: string, root: string | undefined): Promise<string | undefined> {
  let folders: OpenedFolders;
  try {
    folders = await OpenedFolders.within(await OpenedFolders.openRoot(maildir, false), false);
  } catch (error) {
    return error instanceof SymlinkedFolderError ? error.message : undefined;
  }
  try {
    return (await refusalOf(folders, root))?.reason;
  } finally {
    folders.close();
  }
}
