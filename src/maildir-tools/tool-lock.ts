// The maildrop lock as a maildir tool takes it (`r2d2 maildir fix`, and any tool that changes
// names or files under the lock): the same locker the personality's servers use (lock files, or
// database leases across hosts), waited for up to a limit while a POP3 session holds it.
import { realpath } from 'node:fs/promises';
import { EX_TEMPFAIL } from '../deliver/sysexits';
import type { MaildropLock, MaildropLocker } from '../maildrop/locker';
import { MaildirToolError } from './errors';

const LOCK_POLL_MS = 200;

/**
 * Takes the maildrop lock, polling while a session holds it, for up to `waitMs`. Throws a
 * MaildirToolError (75) naming `unchanged` ("nothing was renamed") when it is still held then,
 * or at once when the holder shows a configuration conflict.
 */
export async function takeToolLock(maildir: string, locker: MaildropLocker, waitMs: number, tool: string, unchanged: string): Promise<MaildropLock> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const attempt = await locker.lock({ dir: maildir, canonical: () => realpath(maildir), holder: tool, blocking: false });
    if (attempt.kind === 'locked') return attempt.lock;
    if (attempt.conflict !== undefined) throw new MaildirToolError(EX_TEMPFAIL, `${maildir}: ${attempt.conflict}; ${unchanged}`);
    if (Date.now() >= deadline) {
      throw new MaildirToolError(EX_TEMPFAIL, `${maildir}: the maildrop is locked by a POP3 session; ${unchanged} (try again, or wait longer with --wait)`);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(LOCK_POLL_MS, Math.max(1, deadline - Date.now()))));
  }
}

/** Between changes: stop (75) as soon as the lock may no longer be ours (a lease not renewed or taken). */
export function assertStillLocked(maildir: string, lock: MaildropLock, done: string): void {
  if (lock.lost !== undefined) throw new MaildirToolError(EX_TEMPFAIL, `${maildir}: ${lock.lost}; stopped (${done}): run it again`);
}
