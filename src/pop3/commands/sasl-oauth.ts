// AUTH OAUTHBEARER (RFC 7628) and XOAUTH2 (Google's): a bearer token checked by the accounts
// store's token logins, then the same maildrop opening, log lines and failed-login brake as a
// password login. The token is never logged.
import { parseOAuthBearer, parseXOAuth2 } from '../oauth-response';
import { err, proceed } from '../replies';
import { AUTH_FAILED, BACK, enterTransaction, failedLogin, loginMeter, NOT_AVAILABLE } from './authorization';
import type { Outcome, SessionContext } from './context';
import { decodeBase64, INVALID_BASE64 } from './sasl-base64';

export type TokenMechanism = 'OAUTHBEARER' | 'XOAUTH2';

export function startOAuth(mechanism: TokenMechanism, initial: string | undefined, ctx: SessionContext): Outcome | Promise<Outcome> {
  // RFC 7628 §3: the client speaks first; with no initial response, an empty challenge asks it to.
  if (initial === undefined) return { reply: proceed(), next: { kind: 'AUTHORIZATION', user: undefined, sasl: { mechanism } } };
  return oauthResponse(mechanism, initial, ctx);
}

export async function oauthResponse(mechanism: TokenMechanism, encoded: string, ctx: SessionContext): Promise<Outcome> {
  const tokens = ctx.accounts.tokens;
  if (tokens === undefined) return { reply: err('unsupported SASL mechanism'), next: BACK };
  const decoded = decodeBase64(encoded);
  if (decoded === undefined) return INVALID_BASE64;
  const message = mechanism === 'OAUTHBEARER' ? parseOAuthBearer(decoded) : parseXOAuth2(decoded);
  if (message.kind === 'malformed') return { reply: err(`malformed ${mechanism} response: ${message.reason}`), next: BACK, bad: true };
  const answered = loginMeter(ctx, mechanism === 'OAUTHBEARER' ? 'oauthbearer' : 'xoauth2');
  let result: Awaited<ReturnType<typeof tokens.authenticate>>;
  try {
    result = await tokens.authenticate({ token: message.token, user: message.user, peer: ctx.peer });
  } catch (error) {
    answered('temp_failure');
    throw error;
  }
  switch (result.kind) {
    case 'ok':
      ctx.penalty.succeeded(result.account);
      return enterTransaction({ name: result.user, account: result.account, maildir: result.maildir, password: '' }, ctx, answered);
    case 'refused':
      answered('refused');
      ctx.log.warn({ user: result.user }, `login refused: ${result.reason}`);
      return { reply: err(NOT_AVAILABLE), next: BACK };
    case 'unavailable':
      answered('temp_failure');
      ctx.log.warn({ mechanism, reason: result.reason }, 'token cannot be checked now');
      return { reply: err('[SYS/TEMP] the token cannot be checked now, try again later'), next: BACK };
    case 'invalid': {
      const name = result.user ?? '';
      ctx.log.info({ user: name, mechanism, reason: result.reason }, 'token refused');
      answered('bad_credentials');
      await failedLogin(ctx, name, name, message.token);
      return { reply: proceed(errorChallenge(mechanism, tokens.scopes)), next: { kind: 'AUTHORIZATION', user: undefined, sasl: { mechanism: 'OAUTH-FAILED' } } };
    }
  }
}

/** RFC 7628 §3.2.3: the client's dummy response (%x01) to the error challenge ends the exchange. */
export function oauthFailed(): Outcome {
  return { reply: err(AUTH_FAILED), next: BACK };
}

/**
 * RFC 7628 §3.2.2's error status, base64: OAUTHBEARER says "invalid_token"; XOAUTH2 clients
 * were written against Google's, which says "401".
 */
export function errorChallenge(mechanism: TokenMechanism, scopes: readonly string[]): string {
  const status = mechanism === 'OAUTHBEARER' ? 'invalid_token' : '401';
  const body = scopes.length > 0 ? { status, schemes: 'bearer', scope: scopes.join(' ') } : { status, schemes: 'bearer' };
  return Buffer.from(JSON.stringify(body)).toString('base64');
}
