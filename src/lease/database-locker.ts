// `maildrop_lock { backend = database }`: the maildrop lock as a lease row in a MySQL/MariaDB
// table shared by every host (lease-sql.ts). A lease is taken in one atomic statement, renewed
// every lease/3 over a small pool of its own (not the accounts pool, which a SIGHUP may retire),
// and deleted by its token at the session's end. A host that dies or loses the database loses
// its leases after `lease` seconds, by the database's clock; a session whose lease was not
// renewed in time must confirm it before UPDATE (opened-maildrop.ts), or delete nothing.
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { threadId } from 'node:worker_threads';
import type { Logger } from 'pino';
import { openMysqlPool, type MysqlPool, type Param } from '../accounts/mysql-pool';
import type { DatabaseConfig } from '../config/types';
import { liveLockFile } from '../maildrop/lock';
import type { LockAttempt, LockRequest, MaildropLocker } from '../maildrop/locker';
import { Lease, LEASE_TAKEN, type LeaseOwner } from './lease';
import { affectedRows, isTakeConflict, leaseStatements, type LeaseStatements } from './lease-sql';

export interface DatabaseLockSettings {
  readonly database: DatabaseConfig;
  readonly leaseMs: number;
  readonly table: string;
  /** A monotonic clock in ms; performance.now() unless a test moves time itself. */
  readonly now?: () => number;
}

/** Connections per thread: renewals are one statement per lease/3, takes and releases one each per session. */
const LEASE_POOL_SIZE = 2;
/** Renewals are sent in batches of this many tokens. */
const RENEW_BATCH = 500;

/** The lease backend of one thread (or one tool run): its own pool, one renewal timer. */
export class DatabaseLocker implements MaildropLocker, LeaseOwner {
  readonly backend = 'database';
  readonly sql: LeaseStatements;
  readonly leaseMs: number;
  private readonly pool: MysqlPool;
  private readonly held = new Set<Lease>();
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private readonly queryTimeoutMs: number;
  readonly now: () => number;

  constructor(
    settings: DatabaseLockSettings,
    private readonly log?: Logger,
    /** This host's name in lease rows (the UTS host name). */
    private readonly hostName = hostname(),
  ) {
    this.sql = leaseStatements(settings.table);
    this.now = settings.now ?? (() => performance.now());
    this.leaseMs = settings.leaseMs;
    // A statement must not outlive the renewal period it serves.
    this.queryTimeoutMs = Math.max(1000, Math.min(settings.database.queryTimeoutMs, Math.floor(settings.leaseMs / 3)));
    // Without CLIENT_FOUND_ROWS, affectedRows counts rows changed: 0 when a lease is held by another.
    this.pool = openMysqlPool(settings.database, { connectionLimit: LEASE_POOL_SIZE, flags: ['-FOUND_ROWS'], log });
  }

  async lock(request: LockRequest): Promise<LockAttempt> {
    const path = await request.canonical();
    const maildrop = createHash('sha256').update(path).digest('hex');
    const token = randomBytes(16).toString('hex');
    const holder = `pid ${process.pid} thread ${threadId} ${request.holder}`.slice(0, 255);
    const sentAt = this.now();
    let taken: boolean;
    try {
      const result = await this.run(this.sql.take, [maildrop, path.slice(0, 1024), token, this.hostName.slice(0, 255), holder, this.leaseSeconds]);
      taken = affectedRows(result) > 0;
    } catch (error) {
      if (isTakeConflict(error)) return { kind: 'in-use' };
      // It may have been written before the connection broke: free it rather than wait for expiry.
      void this.run(this.sql.release, [maildrop, token]).catch(() => undefined);
      throw error;
    }
    if (!taken) return { kind: 'in-use' };
    const lease = new Lease(this, { maildrop, token, path, confirmedUntil: sentAt + this.leaseMs, log: request.log ?? this.log });
    this.held.add(lease);
    this.timer ??= setInterval(() => void this.renewAll(), Math.floor(this.leaseMs / 3)).unref();
    // A tool or host using lock files on this maildrop would not see our lease: refuse, and say so.
    const fileHolder = await liveLockFile(request.dir, request.liveness).catch(() => undefined);
    if (fileHolder !== undefined) {
      await lease.release().catch(() => undefined);
      const conflict = `${fileHolder}: with backend = database every host and tool must take leases (maildir fix -p)`;
      return { kind: 'in-use', conflict };
    }
    return { kind: 'locked', lock: lease };
  }

  /** LeaseOwner: one statement on the lease pool (asked again of the next server if the connection broke). */
  run(sql: string, params: readonly Param[]): Promise<unknown> {
    return this.pool.run({ sql, params, timeoutMs: this.queryTimeoutMs, retry: true });
  }

  get leaseSeconds(): number {
    return Math.ceil(this.leaseMs / 1000);
  }

  /** LeaseOwner: a lease released or given up is no longer renewed. */
  forget(lease: Lease): void {
    this.held.delete(lease);
    if (this.held.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    // Sessions release their leases before the server closes; what is left expires by itself.
    await Promise.all([...this.held].map((lease) => lease.release().catch(() => undefined)));
    await this.pool.end();
  }

  /**
   * Renews every held lease in batches; a token no longer in the table is a lease taken from us.
   * While a round still waits on a slow database, asking again answers that round.
   */
  renewAll(): Promise<void> {
    if (this.round === undefined) {
      // .finally runs later than this assignment, even for a round with nothing to renew.
      const round = this.renewHeld().finally(() => {
        if (this.round === round) this.round = undefined;
      });
      this.round = round;
    }
    return this.round;
  }

  private async renewHeld(): Promise<void> {
    const leases = [...this.held];
    for (let i = 0; i < leases.length; i += RENEW_BATCH) await this.renewBatch(leases.slice(i, i + RENEW_BATCH));
  }

  private async renewBatch(batch: readonly Lease[]): Promise<void> {
    const sentAt = this.now();
    const tokens = batch.map((l) => l.token);
    try {
      const result = await this.pool.run({ sql: this.sql.renewMany, params: [this.leaseSeconds, tokens], timeoutMs: this.queryTimeoutMs, retry: true, text: true });
      let gone = new Set<string>();
      if (affectedRows(result) < tokens.length) {
        const rows = await this.pool.run({ sql: this.sql.stillHeld, params: [tokens], timeoutMs: this.queryTimeoutMs, retry: true, text: true });
        const still = new Set(Array.isArray(rows) ? rows.map((r) => String((r as { token?: unknown }).token)) : tokens);
        gone = new Set(tokens.filter((t) => !still.has(t)));
      }
      for (const lease of batch) {
        if (gone.has(lease.token)) lease.markLost(LEASE_TAKEN);
        else lease.renewed(sentAt);
      }
    } catch (error) {
      for (const lease of batch) lease.notRenewed(error);
    }
  }
}
