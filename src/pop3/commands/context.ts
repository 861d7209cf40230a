import type { Logger } from 'pino';
import type { Accounts } from '../../accounts/accounts';
import type { PolicyConfig } from '../../config/types';
import type { FileIo } from '../../maildrop/io-policy';
import type { LockLiveness, MaildropLocker } from '../../maildrop/locker';
import type { MessageEntry } from '../../maildrop/scan';
import type { Clock } from '../clock';
import type { Command } from '../command';
import type { SessionMetrics } from '../metrics';
import type { Reply } from '../replies';
import type { SessionSecurity } from '../security';
import type { AuthorizationState, CloseReason, SessionState, TransactionState } from '../state';

/** What handlers may use: never the socket. */
export interface SessionContext {
  readonly accounts: Accounts;
  readonly peer: string;
  readonly maildirRoot: string | undefined;
  readonly implementation: string;
  readonly log: Logger;
  readonly lockLiveness: LockLiveness | undefined;
  /** Where maildrop locks live (c11n maildrop_lock); lock files when absent. */
  readonly locker?: MaildropLocker | undefined;
  readonly security: SessionSecurity;
  readonly penalty: LoginPenalty;
  /** How the maildrop uses the disk (blocking on local disks, pooled on network storage). */
  readonly io: FileIo;
  /** The failed-login delay sleeps on it; LOGIN-DELAY and EXPIRE read the time from it. */
  readonly clock: Clock;
  /** Counts and durations for the metrics endpoint (NO_SESSION_METRICS when it is off). */
  readonly metrics: SessionMetrics;
  /** LOGIN-DELAY and EXPIRE: the server's defaults and which vary per user (RFC 2449 §6.5, §6.7). */
  readonly policy: PolicyConfig;
  /** Previous logins per account, shared by every worker thread (LOGIN-DELAY). */
  readonly logins: LoginHistory;
}

export type LoginClaim = { readonly kind: 'claimed'; undo(): void } | { readonly kind: 'too-soon'; readonly previousMs: number };

/** When each account last logged in, as every worker thread of this host saw it. */
export interface LoginHistory {
  /**
   * Records a login of `account` at `nowMs` unless the previous one is less than `delayMs` ago
   * (then nothing changes). `undo()` takes the record back, if no later login replaced it.
   */
  claim(account: string, nowMs: number, delayMs: number): LoginClaim;
}

/** Failed-login delays (brute-force brake), shared by every session of the server. */
export interface LoginPenalty {
  /** Records a failed login; returns how long to wait before answering, in ms. */
  failed(peer: string, user: string, password: string): number;
  /** The account logged in: its own count starts again (the address's does not). */
  succeeded(user: string): void;
}

export interface Outcome {
  readonly reply: Reply;
  readonly next?: SessionState;
  readonly close?: CloseReason;
  /** A malformed or misplaced command: counts toward the bad-command limit. */
  readonly bad?: boolean;
  /** STLS accepted: the connection runs the handshake after this reply (RFC 2595 §4). */
  readonly startTls?: boolean;
}

type Result = Outcome | Promise<Outcome>;

export type Handler<S extends SessionState> = (command: Command, state: S, ctx: SessionContext) => Result;

/** A message the dispatcher found for a message-number argument: not deleted, in range. */
export interface FoundMessage {
  readonly number: number;
  readonly entry: MessageEntry;
}

/**
 * A TRANSACTION command's argument shape (Dovecot's get_msgnum is the model): at most `max`
 * arguments, and whether the first is a message number. The dispatcher answers a wrong count
 * and resolves the number once; the handler gets the message already found.
 */
export type TransactionCommand =
  | { readonly message: 'none'; readonly max: number; readonly run: (command: Command, state: TransactionState, ctx: SessionContext) => Result }
  | {
      readonly message: 'optional';
      readonly max: number;
      readonly run: (command: Command, state: TransactionState, ctx: SessionContext, found: FoundMessage | undefined) => Result;
    }
  | { readonly message: 'required'; readonly max: number; readonly run: (command: Command, state: TransactionState, ctx: SessionContext, found: FoundMessage) => Result };

/** For commands that take what they are given (QUIT, CAPA): no count is checked. */
export const ANY_COUNT = Number.POSITIVE_INFINITY;

export interface CommandSpec {
  /** The session log letter; some commands log differently with an argument (LIST n = l). */
  readonly letter: (command: Command) => string;
  /** AUTHORIZATION handlers read their own arguments (USER and PASS take the rest of the line). */
  readonly authorization?: Handler<AuthorizationState>;
  readonly transaction?: TransactionCommand;
}

export function withLetter(letter: string, withArgument?: string): (command: Command) => string {
  return (command) => (withArgument !== undefined && command.args.length > 0 ? withArgument : letter);
}
