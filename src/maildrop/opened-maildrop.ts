import type { Logger } from 'pino';
import type { OpenedFolders } from './folders';
import type { FileIo } from './io-policy';
import type { MaildropLock } from './locker';
import { MessageFile } from './message-file';
import { updateMaildrop, type UpdateReport, type UpdateRequest } from './retention';
import { messagePath, type MessageEntry, type Snapshot } from './scan';

/** UPDATE's outcome; `lockLost` when nothing was changed because the lock was no longer ours. */
export type SessionUpdate = UpdateReport & { readonly lockLost?: string };

/**
 * A maildrop opened for one session (open-maildrop.ts): its folders held open, its lock held,
 * and the snapshot taken at login. Everything a session does to its mail goes through here.
 */
export class OpenedMaildrop {
  private released = false;

  constructor(
    /** The maildir as the accounts store named it (for the log and the snapshot cache). */
    readonly maildir: string,
    private readonly folders: OpenedFolders,
    private readonly lock: MaildropLock,
    readonly snapshot: Snapshot,
    private readonly io: FileIo,
    private readonly log: Logger,
  ) {}

  /** Why the lock may no longer be ours (a lease not renewed in time, or taken); undefined while it holds. */
  get lockLost(): string | undefined {
    return this.lock.lost;
  }

  /** A listed message's body, for RETR and TOP. */
  message(entry: MessageEntry): MessageFile {
    return new MessageFile(messagePath(this.folders, entry), `${entry.dir}/${entry.file}`, entry.size, this.io, this.log);
  }

  /**
   * RFC 1939 §6 UPDATE (retention.ts): the DELE marks -- these and only these messages -- then,
   * with an EXPIRE policy, expiry and the record of this session's retrievals. Only while the
   * lock is still ours (a lease may have expired or been taken: then nothing changes). The
   * snapshot cache needs no word of it: every move and removal changes a folder's mtime, so the
   * next login lists the maildrop again. Never throws.
   */
  async update(request: UpdateRequest): Promise<SessionUpdate> {
    if (!(await this.lock.confirm())) {
      const lost = this.lock.lost ?? 'the lock could not be confirmed';
      this.log.warn({ maildir: this.maildir, reason: lost }, 'maildrop lock lost: no message deleted');
      return { deleted: 0, failed: request.deleted.length, expired: 0, recorded: 0, retentionFailed: 0, lockLost: lost };
    }
    return updateMaildrop(this.folders, request);
  }

  /**
   * Releases the lock; throws if it cannot be removed now (it is then retried in the background,
   * through the maildir descriptor, which stays open until the lock is gone).
   */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    // Before the lock goes: a log reader (the lab) may take this as the end of the hold.
    this.log.debug({ maildir: this.maildir }, 'maildrop lock releasing');
    void this.lock.settled.then(() => this.folders.close());
    await this.lock.release();
  }
}
