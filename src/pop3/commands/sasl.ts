// RFC 5034 AUTH: PLAIN (RFC 4616) and LOGIN, the same login as USER/PASS; OAUTHBEARER (RFC 7628)
// and XOAUTH2 with an OAuth2 bearer token, when the personality has an `oauth2` section.
import type { Command } from '../command';
import { err, proceed } from '../replies';
import type { AuthorizationState, SaslStep } from '../state';
import { AUTH_FAILED, BACK, login, TLS_REQUIRED } from './authorization';
import type { Outcome, SessionContext } from './context';
import { decodeBase64, INVALID_BASE64 } from './sasl-base64';
import { loginStep, startLogin } from './sasl-login';
import { oauthFailed, oauthResponse, startOAuth } from './sasl-oauth';

const PASSWORD_MECHANISMS = ['PLAIN', 'LOGIN'] as const;
const TOKEN_MECHANISMS = ['OAUTHBEARER', 'XOAUTH2'] as const;

/** The mechanisms CAPA's SASL line offers: the OAuth ones only where tokens are configured. */
export function saslMechanisms(ctx: SessionContext): string[] {
  return ctx.accounts.tokens === undefined ? [...PASSWORD_MECHANISMS] : [...PASSWORD_MECHANISMS, ...TOKEN_MECHANISMS];
}

export function auth(command: Command, _state: AuthorizationState, ctx: SessionContext): Outcome | Promise<Outcome> {
  // RFC 2595 §2 for every mechanism: a token is a credential as much as a password.
  if (!ctx.security.plaintextAuthAllowed) return TLS_REQUIRED;
  const [mechanism, initial, extra] = command.args;
  // RFC 5034: a mechanism is required; clients learn them from CAPA's SASL line.
  if (mechanism === undefined) return { reply: err(`AUTH needs a mechanism (see CAPA: SASL ${saslMechanisms(ctx).join(' ')})`), bad: true };
  if (extra !== undefined) return { reply: err('too many arguments'), bad: true };
  // RFC 5034 §4: "=" is an empty initial response.
  const response = initial === '=' ? '' : initial;
  const name = mechanism.toUpperCase();
  switch (name) {
    case 'PLAIN':
      return response === undefined ? { reply: proceed(), next: { kind: 'AUTHORIZATION', user: undefined, sasl: { mechanism: 'PLAIN' } } } : plain(response, ctx);
    case 'LOGIN':
      return startLogin(response, ctx);
    case 'OAUTHBEARER':
    case 'XOAUTH2':
      if (ctx.accounts.tokens === undefined) break;
      return startOAuth(name, response, ctx);
  }
  return { reply: err('unsupported SASL mechanism') };
}

/** The line after "+ ": the client's response, or "*" to cancel (RFC 5034 §4). */
export function saslResponse(step: SaslStep, line: string, ctx: SessionContext): Outcome | Promise<Outcome> {
  // RFC 7628 §3.2.3: after the error challenge the exchange fails, whatever the client sends.
  if (step.mechanism === 'OAUTH-FAILED') return oauthFailed();
  if (line === '*') return { reply: err('authentication cancelled'), next: BACK };
  switch (step.mechanism) {
    case 'PLAIN':
      return plain(line, ctx);
    case 'LOGIN':
      return loginStep(step, line, ctx);
    case 'OAUTHBEARER':
    case 'XOAUTH2':
      return oauthResponse(step.mechanism, line, ctx);
  }
}

/** RFC 4616: [authzid] NUL authcid NUL passwd. Acting as another user is not offered. */
function plain(encoded: string, ctx: SessionContext): Outcome | Promise<Outcome> {
  const decoded = decodeBase64(encoded);
  if (decoded === undefined) return INVALID_BASE64;
  const parts = decoded.toString('utf8').split('\0');
  const [authzid, authcid, password] = parts;
  if (parts.length !== 3 || authcid === undefined || password === undefined || authcid === '') {
    return { reply: err('malformed PLAIN response'), next: BACK, bad: true };
  }
  if (authzid !== '' && authzid !== authcid) {
    ctx.metrics.login('plain', 'refused');
    ctx.log.info({ user: authcid, peer: ctx.peer }, 'login failed: authorization identity refused');
    return { reply: err(AUTH_FAILED), next: BACK };
  }
  return login(authcid, password, ctx, 'plain');
}
