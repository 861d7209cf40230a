import type { Logger } from 'pino';
import type { OpenedFolders } from './folders';
import type { FileIo } from './io-policy';
import type { MaildropLock } from './lock';
import { MessageFile } from './message-file';
import { updateMaildrop, type UpdateReport, type UpdateRequest } from './retention';
import { messagePath, type MessageEntry, type Snapshot } from './scan';
import { applyDeletions, type UpdateResult } from './update';

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

  /** A listed message's body, for RETR and TOP. */
  message(entry: MessageEntry): MessageFile {
    return new MessageFile(messagePath(this.folders, entry), `${entry.dir}/${entry.file}`, entry.size, this.io, this.log);
  }

  /** RFC 1939 §6 UPDATE: removes these (and only these) messages. Never throws. */
  applyDeletions(doomed: readonly MessageEntry[]): Promise<UpdateResult> {
    return applyDeletions(this.folders, doomed);
  }

  /**
   * UPDATE with an EXPIRE policy (retention.ts): the DELE marks, then expiry and the record of
   * this session's retrievals. The snapshot cache needs no word of it: every move and removal
   * changes a folder's mtime, so the next login lists the maildrop again. Never throws.
   */
  update(request: UpdateRequest): Promise<UpdateReport> {
    return updateMaildrop(this.folders, request);
  }

  /**
   * Releases the lock; throws if it cannot be removed now (it is then retried in the background,
   * through the maildir descriptor, which stays open until the lock is gone).
   */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    void this.lock.settled.then(() => this.folders.close());
    await this.lock.release();
  }
}
