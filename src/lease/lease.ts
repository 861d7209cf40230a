// One maildrop lease held by a session (database-locker.ts takes and renews them). Its term is
// counted on this host's monotonic clock from when a take or renewal was *sent*: the database's
// own expiry (counted from when it ran the statement) is never earlier, so "still ours" here is
// never wrong in the unsafe direction.
import type { Logger } from 'pino';
import type { Param } from '../accounts/mysql-pool';
import type { MaildropLock } from '../maildrop/locker';
import { affectedRows, type LeaseStatements } from './lease-sql';

/** What a lease asks of the locker that took it. */
export interface LeaseOwner {
  readonly sql: LeaseStatements;
  readonly leaseMs: number;
  readonly leaseSeconds: number;
  /** A monotonic clock in ms (this.owner.now(); injected by tests). */
  now(): number;
  run(sql: string, params: readonly Param[]): Promise<unknown>;
  forget(lease: Lease): void;
}

const RELEASE_RETRY_MS = 2000;
export const LEASE_TAKEN = 'the lease was taken by another host (it had expired) or removed';

export class Lease implements MaildropLock {
  readonly maildrop: string;
  readonly token: string;
  readonly path: string;
  readonly settled: Promise<void>;
  private confirmedUntil: number;
  private lostReason: string | undefined;
  private expiredSaid = false;
  private released = false;
  private settle: () => void = () => undefined;
  private readonly log: Logger | undefined;

  constructor(
    private readonly owner: LeaseOwner,
    taken: { maildrop: string; token: string; path: string; confirmedUntil: number; log: Logger | undefined },
  ) {
    this.maildrop = taken.maildrop;
    this.token = taken.token;
    this.path = taken.path;
    this.confirmedUntil = taken.confirmedUntil;
    this.log = taken.log;
    this.settled = new Promise((resolve) => (this.settle = resolve));
  }

  get lost(): string | undefined {
    if (this.lostReason !== undefined) return this.lostReason;
    if (this.owner.now() <= this.confirmedUntil) return undefined;
    return `the lease was not renewed in time (database unreachable): another host may have taken it`;
  }

  /** A renewal sent at `sentAt` (owner.now()) succeeded. */
  renewed(sentAt: number): void {
    if (this.lostReason !== undefined) return;
    this.confirmedUntil = Math.max(this.confirmedUntil, sentAt + this.owner.leaseMs);
    if (this.expiredSaid) {
      this.expiredSaid = false;
      this.log?.info({ maildir: this.path }, 'maildrop lease renewed again');
    }
  }

  /** A renewal failed (the database did not answer): said once, when the term has run out. */
  notRenewed(error: unknown): void {
    if (this.lostReason !== undefined || this.expiredSaid || this.owner.now() <= this.confirmedUntil) return;
    this.expiredSaid = true;
    const reason = error instanceof Error ? error.message : String(error);
    this.log?.warn({ maildir: this.path, reason }, 'maildrop lease expired: not renewed in time; no deletions unless it is confirmed');
  }

  /** The row is gone or has another token: this session may no longer change the maildrop. */
  markLost(why: string): void {
    if (this.lostReason !== undefined) return;
    this.lostReason = why;
    this.owner.forget(this);
    this.log?.warn({ maildir: this.path, reason: why }, 'maildrop lease lost');
  }

  async confirm(): Promise<boolean> {
    if (this.lostReason !== undefined || this.released) return false;
    const sentAt = this.owner.now();
    try {
      if (affectedRows(await this.owner.run(this.owner.sql.renewOne, [this.owner.leaseSeconds, this.token])) === 1) {
        this.renewed(sentAt);
        return true;
      }
      this.markLost(LEASE_TAKEN);
    } catch (error) {
      this.log?.warn({ maildir: this.path, reason: error instanceof Error ? error.message : String(error) }, 'maildrop lease cannot be confirmed now');
    }
    return false;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.owner.forget(this);
    if (this.lostReason !== undefined) {
      this.settle(); // not ours to delete
      return;
    }
    try {
      await this.owner.run(this.owner.sql.release, [this.maildrop, this.token]);
      this.settle();
    } catch (error) {
      this.retryRelease();
      throw error;
    }
  }

  /** Until the term would have run out anyway: after that the row is free for anyone. */
  private retryRelease(): void {
    if (this.owner.now() > this.confirmedUntil) {
      this.settle();
      return;
    }
    setTimeout(() => {
      this.owner.run(this.owner.sql.release, [this.maildrop, this.token]).then(
        () => this.settle(),
        () => this.retryRelease(),
      );
    }, RELEASE_RETRY_MS).unref();
  }
}
