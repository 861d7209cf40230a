import type { MessageFile } from '../maildrop/message-file';
import type { OpenedMaildrop, SessionUpdate } from '../maildrop/opened-maildrop';
import type { MessageEntry } from '../maildrop/scan';
import type { ExpirePolicy } from '../maildrop/retention';

export type MessageLookup =
  | { readonly kind: 'found'; readonly number: number; readonly entry: MessageEntry }
  | { readonly kind: 'invalid' }
  | { readonly kind: 'missing' }
  | { readonly kind: 'deleted' };

const MESSAGE_NUMBER = /^[1-9][0-9]{0,9}$/;

/**
 * A locked maildrop as one session sees it: the snapshot taken at login, numbered from 1,
 * with deletion marks. Numbers never shift after DELE (RFC 1939 §5); files are only removed
 * in UPDATE. The maildrop itself (lock, folders, files) belongs to maildrop/.
 */
export class MaildropView {
  private readonly deleted: Uint8Array;
  /** Sent whole by RETR in this session (RFC 2449 EXPIRE's "retrieved"). */
  private readonly retrieved: Uint8Array;
  private deletedCount = 0;
  private deletedOctets = 0;

  constructor(private readonly drop: OpenedMaildrop) {
    this.deleted = new Uint8Array(drop.snapshot.messages.length);
    this.retrieved = new Uint8Array(drop.snapshot.messages.length);
  }

  get count(): number {
    return this.drop.snapshot.messages.length;
  }

  /** Messages and octets not marked deleted (STAT, RFC 1939 §5). */
  get live(): { readonly messages: number; readonly octets: number } {
    return {
      messages: this.drop.snapshot.messages.length - this.deletedCount,
      octets: this.drop.snapshot.totalOctets - this.deletedOctets,
    };
  }

  lookup(argument: string | undefined): MessageLookup {
    if (argument === undefined || !MESSAGE_NUMBER.test(argument)) return { kind: 'invalid' };
    const index = Number(argument) - 1;
    const entry = this.drop.snapshot.messages[index];
    if (entry === undefined) return { kind: 'missing' };
    if (this.deleted[index] === 1) return { kind: 'deleted' };
    return { kind: 'found', number: index + 1, entry };
  }

  /** Calls back for every message not marked deleted, with its number. */
  forEachLive(visit: (number: number, entry: MessageEntry) => void): void {
    this.drop.snapshot.messages.forEach((entry, index) => {
      if (this.deleted[index] === 0) visit(index + 1, entry);
    });
  }

  markDeleted(number: number): void {
    const index = number - 1;
    const entry = this.drop.snapshot.messages[index];
    if (entry === undefined || this.deleted[index] === 1) return;
    this.deleted[index] = 1;
    this.deletedCount++;
    this.deletedOctets += entry.size;
  }

  /** RETR has written the whole message (its terminator included) to the client. */
  markRetrieved(number: number): void {
    if (number >= 1 && number <= this.retrieved.length) this.retrieved[number - 1] = 1;
  }

  /** RSET: the deletion marks, and this session's retrievals too (Dovecot's RSET forgets both). */
  reset(): void {
    this.retrieved.fill(0);
    this.deleted.fill(0);
    this.deletedCount = 0;
    this.deletedOctets = 0;
  }

  message(entry: MessageEntry): MessageFile {
    return this.drop.message(entry);
  }

  /** UPDATE: removes the messages marked deleted; with an EXPIRE policy, expires and records retrievals (nothing if the maildrop lock is no longer ours). */
  update(expire?: ExpirePolicy): Promise<SessionUpdate> {
    const messages = this.drop.snapshot.messages;
    const deleted = messages.filter((_, index) => this.deleted[index] === 1);
    const kept = messages.filter((_, index) => this.deleted[index] === 0);
    const retrieved = messages.filter((_, index) => this.deleted[index] === 0 && this.retrieved[index] === 1);
    return this.drop.update({ deleted, kept, retrieved, expire });
  }

  /** Why the maildrop lock may no longer be this session's (see MaildropLock.lost); undefined while it holds. */
  get lockLost(): string | undefined {
    return this.drop.lockLost;
  }

  get doomedCount(): number {
    return this.deletedCount;
  }

  release(): Promise<void> {
    return this.drop.release();
  }
}
