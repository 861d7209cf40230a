import type { Logger } from 'pino';
import type { Accounts } from '../../accounts/accounts';
import type { LockLiveness } from '../../maildrop/lock';
import type { Command } from '../command';
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
  readonly security: SessionSecurity;
  readonly penalty: LoginPenalty;
  /** Small file operations (lock, directory listing) may block the thread briefly (local disks). */
  readonly blockingFileIo: boolean;
}

/** Failed-login delays (brute-force brake), shared by every session of the server. */
export interface LoginPenalty {
  /** Records a failed login; returns how long to wait before answering, in ms. */
  failed(peer: string, user: string, password: string): number;
  succeeded(peer: string, user: string): void;
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

export type Handler<S extends SessionState> = (command: Command, state: S, ctx: SessionContext) => Outcome | Promise<Outcome>;

export interface CommandSpec {
  /** The session log letter; some commands log differently with an argument (LIST n = l). */
  readonly letter: (command: Command) => string;
  readonly authorization?: Handler<AuthorizationState>;
  readonly transaction?: Handler<TransactionState>;
}

export function withLetter(letter: string, withArgument?: string): (command: Command) => string {
  return (command) => (withArgument !== undefined && command.args.length > 0 ? withArgument : letter);
}
