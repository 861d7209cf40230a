import { lockMaildrop } from '../../maildrop/lock';
import { scanMaildropCached } from '../../maildrop/snapshot-cache';
import { isInsideRootOnDisk } from '../../accounts/maildir-path';
import { MaildropView } from '../maildrop-view';
import { err, ok } from '../replies';
import type { AuthorizationState } from '../state';
import type { Command } from '../command';
import type { Outcome, SessionContext } from './context';

/** RFC 3206: the same text whether the user exists or the password is wrong. */
export const AUTH_FAILED = '[AUTH] Authentication failed';
const CANNOT_OPEN = '[SYS/TEMP] maildrop cannot be opened now';

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
    const wait = ctx.penalty.failed(ctx.peer, name, password);
    ctx.log.info({ user: name, peer: ctx.peer }, 'login failed: bad credentials');
    // The brute-force brake: this session waits; unknown users and wrong passwords alike.
    if (wait > 0) {
      ctx.log.debug({ delayMs: wait }, 'login failure delay');
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
    return { reply: err(AUTH_FAILED), next: back };
  }
  ctx.penalty.succeeded(ctx.peer, name);
  if (result.kind === 'refused') {
    ctx.log.warn({ user: name }, `login refused: ${result.reason}`);
    return { reply: err('[SYS/PERM] maildrop not available'), next: back };
  }
  const maildir = result.maildir;
  if (ctx.maildirRoot !== undefined && !(await isInsideRootOnDisk(maildir, ctx.maildirRoot))) {
    ctx.log.warn({ user: name }, 'login refused: maildir resolves outside maildir_root');
    return { reply: err('[SYS/PERM] maildrop not available'), next: back };
  }
  let lock;
  try {
    lock = await lockMaildrop(maildir, ctx.lockLiveness, ctx.blockingFileIo);
  } catch (error) {
    ctx.log.error({ user: name, err: error }, 'maildrop cannot be locked');
    return { reply: err(CANNOT_OPEN), next: back };
  }
  if (lock === undefined) {
    ctx.log.info({ user: name }, 'lock refused: maildrop in use');
    return { reply: err('[IN-USE] maildrop is locked by another session'), next: back };
  }
  try {
    const snapshot = await scanMaildropCached(maildir, ctx.blockingFileIo);
    const drop = new MaildropView(maildir, lock, snapshot);
    const { messages, octets } = drop.live;
    ctx.log.info({ user: name, messages, octets }, 'login ok');
    if (snapshot.slowPath > 0) ctx.log.warn({ user: name, files: snapshot.slowPath }, 'maildrop has names without a Z size: sized by reading');
    return {
      reply: ok(`${name} has ${messages} message${messages === 1 ? '' : 's'} (${octets} octets)`),
      next: { kind: 'TRANSACTION', user: name, drop },
    };
  } catch (error) {
    await lock.release();
    ctx.log.error({ user: name, err: error }, 'maildrop scan failed');
    return { reply: err(CANNOT_OPEN), next: back };
  }
}

export function quitAuthorization(): Outcome {
  return { reply: ok('r2d2 signing off'), next: { kind: 'UPDATE' }, close: 'peer quit' };
}
