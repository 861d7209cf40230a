// RFC 5034 AUTH with the PLAIN mechanism (RFC 4616): the same login as USER/PASS, in one step.
import type { Command } from '../command';
import { err, proceed } from '../replies';
import type { AuthorizationState } from '../state';
import { AUTH_FAILED, login, TLS_REQUIRED } from './authorization';
import type { Outcome, SessionContext } from './context';

export const SASL_MECHANISMS: readonly string[] = ['PLAIN'];

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const back = { kind: 'AUTHORIZATION', user: undefined } as const;

export function auth(command: Command, _state: AuthorizationState, ctx: SessionContext): Outcome | Promise<Outcome> {
  if (!ctx.security.plaintextAuthAllowed) return TLS_REQUIRED;
  const [mechanism, initial, extra] = command.args;
  // RFC 5034: a mechanism is required; clients learn them from CAPA's SASL line.
  if (mechanism === undefined) return { reply: err('AUTH needs a mechanism (see CAPA: SASL PLAIN)'), bad: true };
  if (extra !== undefined) return { reply: err('too many arguments'), bad: true };
  if (mechanism.toUpperCase() !== 'PLAIN') return { reply: err('unsupported SASL mechanism') };
  if (initial === undefined) return { reply: proceed(), next: { kind: 'AUTHORIZATION', user: undefined, sasl: 'PLAIN' } };
  // RFC 5034 §4: "=" is an empty initial response.
  return plain(initial === '=' ? '' : initial, ctx);
}

/** The line after "+ ": the client's response, or "*" to cancel (RFC 5034 §4). */
export function saslResponse(line: string, ctx: SessionContext): Outcome | Promise<Outcome> {
  if (line === '*') return { reply: err('authentication cancelled'), next: back };
  return plain(line, ctx);
}

/** RFC 4616: [authzid] NUL authcid NUL passwd. Acting as another user is not offered. */
function plain(encoded: string, ctx: SessionContext): Outcome | Promise<Outcome> {
  if (!BASE64.test(encoded)) return { reply: err('invalid base64 in the SASL response'), next: back, bad: true };
  const parts = Buffer.from(encoded, 'base64').toString('utf8').split('\0');
  const [authzid, authcid, password] = parts;
  if (parts.length !== 3 || authcid === undefined || password === undefined || authcid === '') {
    return { reply: err('malformed PLAIN response'), next: back, bad: true };
  }
  if (authzid !== '' && authzid !== authcid) {
    ctx.metrics.login('plain', 'refused');
    ctx.log.info({ user: authcid, peer: ctx.peer }, 'login failed: authorization identity refused');
    return { reply: err(AUTH_FAILED), next: back };
  }
  return login(authcid, password, ctx, 'plain');
}
