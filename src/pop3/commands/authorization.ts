import type { LoginResult } from '../../accounts/accounts';
import type { UserPolicy } from '../../accounts/policy-columns';
import { openMaildrop, type FailedStage, type MaildropOpening } from '../../maildrop/open-maildrop';
import { secondsSince, type LoginMechanism, type LoginResultLabel } from '../metrics';
import { MaildropView } from '../maildrop-view';
import { claimLogin, termsFor } from '../policy';
import { err, ok } from '../replies';
import type { AuthorizationState } from '../state';
import type { Command } from '../command';
import type { Outcome, SessionContext } from './context';
import { bindingsOf } from '../../log/bindings';

/** RFC 3206: the same text whether the user exists or the password is wrong. */
export const AUTH_FAILED = '[AUTH] Authentication failed';
const CANNOT_OPEN = '[SYS/TEMP] maildrop cannot be opened now';
export const NOT_AVAILABLE = '[SYS/PERM] maildrop not available';
/** AUTHORIZATION with nothing remembered: where a failed login returns. */
export const BACK = { kind: 'AUTHORIZATION', user: undefined } as const;

/** RFC 2595 §2: no password in the clear where policy says TLS first. */
export const TLS_REQUIRED: Outcome = { reply: err('[AUTH] TLS required: use STLS or the POP3S port') };

export function user(command: Command, _state: AuthorizationState, ctx: SessionContext): Outcome {
  if (!ctx.security.plaintextAuthAllowed) return TLS_REQUIRED;
  const name = command.rest;
  if (name.length === 0) return { reply: err('USER needs a name'), bad: true };
  return { reply: ok('send PASS'), next: { kind: 'AUTHORIZATION', user: name } };
}

export async function pass(command: Command, state: AuthorizationState, ctx: SessionContext): Promise<Outcome> {
  if (!ctx.security.plaintextAuthAllowed) return TLS_REQUIRED;
  if (state.user === undefined) return { reply: err('send USER first'), bad: true };
  return login(state.user, command.rest, ctx, 'user');
}

/**
 * A login with a name and password, from PASS or AUTH PLAIN/LOGIN: +OK only once the maildrop
 * is locked and scanned; otherwise back to AUTHORIZATION with the reason's response code.
 */
export async function login(name: string, password: string, ctx: SessionContext, mechanism: LoginMechanism): Promise<Outcome> {
  const answered = loginMeter(ctx, mechanism);
  let result: LoginResult;
  try {
    result = await ctx.accounts.authenticate({ user: name, password, peer: ctx.peer });
  } catch (error) {
    answered('temp_failure');
    throw error;
  }
  if (result.kind === 'denied') {
    // Counted by the account the database returned when it did (collation-equal names are one).
    answered('bad_credentials');
    await failedLogin(ctx, name, result.account ?? name, password);
    return { reply: err(AUTH_FAILED), next: BACK };
  }
  if (result.kind === 'refused') {
    answered('refused');
    ctx.log.warn({ user: name }, `login refused: ${result.reason}`);
    return { reply: err(NOT_AVAILABLE), next: BACK };
  }
  ctx.penalty.succeeded(result.account ?? name);
  return enterTransaction({ name, account: result.account ?? name, maildir: result.maildir, policy: result.policy, password }, ctx, answered);
}

/** Records how a login ended, with its time from now (metrics; a no-op without a metrics section). */
export function loginMeter(ctx: SessionContext, mechanism: LoginMechanism): (result: LoginResultLabel) => void {
  const started = performance.now();
  return (result) => ctx.metrics.login(mechanism, result, secondsSince(started));
}

/**
 * A failed login, whatever the mechanism: the line fail2ban's filter (personality/fail2ban)
 * bans on, with peer= on the line itself, counted for the address and `account`, then the
 * brute-force brake: this session waits; unknown users and wrong credentials alike.
 * `secret` (a password or token) only tells a retry of the same one from a new guess.
 */
export async function failedLogin(ctx: SessionContext, name: string, account: string, secret: string): Promise<void> {
  const wait = ctx.penalty.failed(ctx.peer, account, secret);
  ctx.log.info({ user: name, peer: ctx.peer }, 'login failed: bad credentials');
  if (wait > 0) {
    ctx.metrics.penalty(wait);
    ctx.log.debug({ delayMs: wait }, 'login failure delay');
    await ctx.clock.sleep(wait);
  }
}

/** Credentials known good, by a password or a token. */
export interface GoodLogin {
  /** The name the client logged in as (the log, the +OK). */
  readonly name: string;
  /** The account as the database named it (LOGIN-DELAY is counted per account). */
  readonly account: string;
  readonly maildir: string;
  /** The row's login_delay, expire and last_login columns, where the query returned them. */
  readonly policy?: UserPolicy | undefined;
  /** For last_login_query_format_string's request ('' for a token: that query has no %p). */
  readonly password: string;
}

/** The login is good: LOGIN-DELAY, then lock and scan the maildrop, then TRANSACTION (RFC 1939 §4). */
export async function enterTransaction(good: GoodLogin, ctx: SessionContext, answered: (result: LoginResultLabel) => void): Promise<Outcome> {
  const { name } = good;
  // RFC 2449 §8.1.1: only after the credentials are known good (no telling users apart), and it
  // is no failed login: no penalty.
  const terms = termsFor(ctx.policy, good.policy);
  const claim = claimLogin(ctx.policy, terms, good.policy, ctx.logins, good.account, ctx.clock.now());
  if (claim.kind === 'too-soon') {
    answered('refused');
    ctx.log.info({ user: name, wait: claim.waitSeconds }, 'login refused: login delay');
    return { reply: err(`[LOGIN-DELAY] too soon after the previous login: try again in ${claim.waitSeconds} seconds`), next: BACK };
  }
  let opening: MaildropOpening;
  try {
    const timed = (stage: FailedStage, seconds: number): void => ctx.metrics.loginStage(stage, seconds);
    opening = await openMaildrop({
      maildir: good.maildir,
      root: ctx.maildirRoot,
      io: ctx.io,
      liveness: ctx.lockLiveness,
      locker: ctx.locker,
      holder: holderOf(ctx),
      log: ctx.log,
      timed,
    });
  } catch (error) {
    claim.undo();
    answered('temp_failure');
    throw error;
  }
  if (opening.kind !== 'opened') {
    claim.undo();
    answered(opening.kind === 'in-use' ? 'locked' : opening.permanent ? 'refused' : 'temp_failure');
    return { reply: err(refusalText(opening, name, ctx)), next: BACK };
  }
  answered('ok');
  await recordLogin(name, good.password, ctx);
  const drop = new MaildropView(opening.drop);
  const { messages, octets } = drop.live;
  ctx.log.info({ user: name, messages, octets }, 'login ok');
  const slowPath = opening.drop.snapshot.slowPath;
  if (slowPath > 0) ctx.log.warn({ user: name, files: slowPath }, 'maildrop has names without a Z size: sized by reading');
  return {
    reply: ok(`${name} has ${messages} message${messages === 1 ? '' : 's'} (${octets} octets)`),
    next: { kind: 'TRANSACTION', user: name, drop, terms },
  };
}

/** last_login_query_format_string, awaited so the next login reads it; a failure leaves the login standing. */
async function recordLogin(name: string, password: string, ctx: SessionContext): Promise<void> {
  if (ctx.accounts.recordLogin === undefined) return;
  try {
    await ctx.accounts.recordLogin({ user: name, password, peer: ctx.peer });
  } catch (error) {
    ctx.log.warn({ user: name, error: error instanceof Error ? error.message : String(error) }, 'last login not recorded');
  }
}

/** The -ERR for a maildrop that was not opened, and its log line. */
function refusalText(opening: Exclude<MaildropOpening, { kind: 'opened' }>, name: string, ctx: SessionContext): string {
  if (opening.kind === 'in-use') {
    // A holder that shows a configuration error (another host's lock file on shared storage) is
    // worth more than an info line: the operator must hear of it.
    if (opening.conflict !== undefined) ctx.log.error({ user: name, reason: opening.conflict }, 'lock refused: maildrop lock conflict');
    else ctx.log.info({ user: name }, 'lock refused: maildrop in use');
    return '[IN-USE] maildrop is locked by another session';
  }
  if (opening.permanent) {
    ctx.log.warn({ user: name }, `login refused: ${opening.reason}`);
    return NOT_AVAILABLE;
  }
  ctx.log.error({ user: name, err: opening.error }, opening.stage === 'lock' ? 'maildrop cannot be locked' : 'maildrop scan failed');
  return CANNOT_OPEN;
}

/** `session 42`: the session number the log lines carry, for a lease row. */
function holderOf(ctx: SessionContext): string {
  const session: unknown = bindingsOf(ctx.log)['session'];
  return typeof session === 'number' || typeof session === 'string' ? `session ${session}` : 'a session';
}

export function quitAuthorization(): Outcome {
  return { reply: ok('r2d2 signing off'), next: { kind: 'UPDATE' }, close: 'peer quit' };
}
