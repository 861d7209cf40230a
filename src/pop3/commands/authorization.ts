import { openMaildrop, type MaildropOpening } from '../../maildrop/open-maildrop';
import { MaildropView } from '../maildrop-view';
import { err, ok } from '../replies';
import type { AuthorizationState } from '../state';
import type { Command } from '../command';
import type { Outcome, SessionContext } from './context';

/** RFC 3206: the same text whether the user exists or the password is wrong. */
export const AUTH_FAILED = '[AUTH] Authentication failed';
const CANNOT_OPEN = '[SYS/TEMP] maildrop cannot be opened now';
const NOT_AVAILABLE = '[SYS/PERM] maildrop not available';

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
  return login(state.user, command.rest, ctx);
}

/**
 * A login with a name and password, from PASS or AUTH PLAIN: +OK only once the maildrop is
 * locked and scanned; otherwise back to AUTHORIZATION with the reason's response code.
 */
export async function login(name: string, password: string, ctx: SessionContext): Promise<Outcome> {
  const back = { kind: 'AUTHORIZATION', user: undefined } as const;
  const result = await ctx.accounts.authenticate({ user: name, password, peer: ctx.peer });
  if (result.kind === 'denied') {
    // peer= on the line itself: what fail2ban's filter (personality/fail2ban) bans.
    // Counted by the account the database returned when it did (collation-equal names are one).
    const wait = ctx.penalty.failed(ctx.peer, result.account ?? name, password);
    ctx.log.info({ user: name, peer: ctx.peer }, 'login failed: bad credentials');
    // The brute-force brake: this session waits; unknown users and wrong passwords alike.
    if (wait > 0) {
      ctx.log.debug({ delayMs: wait }, 'login failure delay');
      await ctx.clock.sleep(wait);
    }
    return { reply: err(AUTH_FAILED), next: back };
  }
  if (result.kind === 'ok') ctx.penalty.succeeded(result.account ?? name);
  if (result.kind === 'refused') {
    ctx.log.warn({ user: name }, `login refused: ${result.reason}`);
    return { reply: err(NOT_AVAILABLE), next: back };
  }
  const opening = await openMaildrop({
    maildir: result.maildir,
    root: ctx.maildirRoot,
    io: ctx.io,
    liveness: ctx.lockLiveness,
    locker: ctx.locker,
    holder: holderOf(ctx),
    log: ctx.log,
  });
  if (opening.kind !== 'opened') return { reply: err(refusalText(opening, name, ctx)), next: back };
  const drop = new MaildropView(opening.drop);
  const { messages, octets } = drop.live;
  ctx.log.info({ user: name, messages, octets }, 'login ok');
  const slowPath = opening.drop.snapshot.slowPath;
  if (slowPath > 0) ctx.log.warn({ user: name, files: slowPath }, 'maildrop has names without a Z size: sized by reading');
  return {
    reply: ok(`${name} has ${messages} message${messages === 1 ? '' : 's'} (${octets} octets)`),
    next: { kind: 'TRANSACTION', user: name, drop },
  };
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
  const session: unknown = ctx.log.bindings()['session'];
  return typeof session === 'number' || typeof session === 'string' ? `session ${session}` : 'a session';
}

export function quitAuthorization(): Outcome {
  return { reply: ok('r2d2 signing off'), next: { kind: 'UPDATE' }, close: 'peer quit' };
}
