// A POP3 session driven through bytes alone: the line reader, Pop3Session and SessionRunner with
// the embedded SQLite accounts (a real store that needs no server), a temporary maildir, an
// in-memory wire and a hand-moved clock. No database server, no socket, no sleeping.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Test } from 'tap';
import { openAccounts } from '../../src/accounts/open-accounts';
import type { Accounts } from '../../src/accounts/accounts';
import { parseConfigText } from '../../src/config/load';
import type { Config } from '../../src/config/types';
import { openLog } from '../../src/log/logger';
import type { FileIo } from '../../src/maildrop/io-policy';
import { NO_SESSION_METRICS } from '../../src/pop3/metrics';
import { TransportSecurity } from '../../src/pop3/security';
import { Pop3Session } from '../../src/pop3/session';
import { SessionRunner } from '../../src/pop3/session-runner';
import type { CloseReason } from '../../src/pop3/state';
import { PenaltyPolicy } from '../../src/server/login-penalty';
import { LastLoginTable } from '../../src/server/last-logins';
import { FadingCounts } from '../../src/server/shared-tables';
import { ManualClock } from './manual-clock';
import { MailRoot } from './maildir';
import { MemoryWire } from './memory-wire';

export interface ByteSessionOptions {
  readonly idleTimeoutMs?: number;
  readonly loginTimeoutMs?: number;
  /** The failed-login delay's base; 0 (none) by default. */
  readonly failureDelayMs?: number;
  readonly maxBadCommands?: number;
  readonly io?: FileIo;
  /** USER/PASS allowed without TLS (a plain listener with plaintext_auth = always); true by default. */
  readonly plaintextAllowed?: boolean;
  /** A clock shared with other sessions (LOGIN-DELAY across sessions); a new one by default. */
  readonly clock?: ManualClock;
}

export interface ByteSessionsOptions {
  /** The query also returns the accounts table's login_delay, expire and last_login columns. */
  readonly policyColumns?: boolean;
  /** c11n text added at top level (a `policy { ... }` section, a last-login query). */
  readonly extra?: string;
}

export interface ByteSession {
  readonly wire: MemoryWire;
  readonly clock: ManualClock;
  readonly runner: SessionRunner;
  readonly session: Pop3Session;
  /** Resolves once the session has ended and its disconnect line is logged, with why it ended. */
  readonly ended: Promise<CloseReason>;
  /** Feeds raw bytes, as a socket would deliver them. */
  send(bytes: string | Buffer): void;
  /** Sends the bytes and resolves with the output once it matches `until`. */
  exchange(bytes: string | Buffer, until: RegExp): Promise<string>;
}

/** Accounts, mail and log lines for the sessions of one test; all removed at teardown. */
export class ByteSessions {
  readonly mail = new MailRoot();
  readonly lines: string[] = [];
  private readonly dir = mkdtempSync(join(tmpdir(), 'r2d2-bytes-'));
  private readonly db: Database.Database;
  private readonly accounts: Accounts;
  private readonly logging;
  private readonly penalties = new FadingCounts(FadingCounts.buffer(1024), 900);
  /** Every session of these shares it, as the worker threads of one server do. */
  readonly logins = new LastLoginTable(LastLoginTable.buffer(1024));
  readonly config: Config;

  constructor(t: Test, options: ByteSessionsOptions = {}) {
    this.db = new Database(join(this.dir, 'accounts.sqlite'));
    this.db.exec(
      'CREATE TABLE accounts (login TEXT PRIMARY KEY, password TEXT NOT NULL, maildir TEXT NOT NULL, login_delay INTEGER, expire TEXT, last_login INTEGER)',
    );
    const columns = options.policyColumns === true ? 'maildir, login_delay, expire, last_login' : 'maildir';
    const config = parseConfigText(
      `maildir_root = "${this.mail.path}"
maildrop_query_format_string = "SELECT ${columns} FROM accounts WHERE login = %u AND password = SHA2(%p, 256)"
listen "pop3" { port = 0 }
database "accounts" { driver = sqlite  file = "accounts.sqlite" }
${options.extra ?? ''}`,
      this.dir,
      {},
      1,
    );
    this.config = config;
    this.accounts = openAccounts(config);
    this.logging = openLog({ identity: 'server.pop3.r2d2', log: config.log, pid: 4242, sink: (line) => this.lines.push(line) });
    t.teardown(async () => {
      await this.accounts.close();
      this.db.close();
      await this.logging.close();
      this.mail.remove();
      rmSync(this.dir, { recursive: true, force: true });
    });
  }

  /** An account with an empty maildir; returns the maildir. */
  addUser(login: string, password: string, policy: { loginDelay?: number; expire?: string; lastLogin?: number } = {}): string {
    const maildir = this.mail.maildir(login);
    this.db
      .prepare('INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?)')
      .run(login, createHash('sha256').update(password).digest('hex'), maildir, policy.loginDelay ?? null, policy.expire ?? null, policy.lastLogin ?? null);
    return maildir;
  }


  /** A new session; its greeting is already written. */
  open(options: ByteSessionOptions = {}): ByteSession {
    const clock = options.clock ?? new ManualClock();
    const wire = new MemoryWire();
    const log = this.logging.log.child({ session: 1 });
    const delay = options.failureDelayMs ?? 0;
    const session = new Pop3Session(
      {
        accounts: this.accounts,
        peer: '192.0.2.7',
        maildirRoot: this.mail.path,
        implementation: 'r2d2',
        log,
        lockLiveness: undefined,
        security: new TransportSecurity(false, false, options.plaintextAllowed ?? true, false),
        penalty: new PenaltyPolicy(this.penalties, delay, delay * 16),
        io: options.io ?? { blocking: true, syncReadMax: 128 * 1024 },
        clock,
        metrics: NO_SESSION_METRICS,
        policy: this.config.policy,
        logins: this.logins,
      },
      options.maxBadCommands ?? 10,
    );
    const runner = new SessionRunner(wire, session, log, {
      idleTimeoutMs: options.idleTimeoutMs ?? 600_000,
      loginTimeoutMs: options.loginTimeoutMs ?? 60_000,
      clock,
    });
    const ended = runner.start();
    const send = (bytes: string | Buffer): void => runner.receive(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
    const exchange = async (bytes: string | Buffer, until: RegExp): Promise<string> => {
      wire.take();
      send(bytes);
      await wire.until(until);
      return wire.take();
    };
    return { wire, clock, runner, session, ended, send, exchange };
  }
}
