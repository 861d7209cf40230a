import { err, multiline, ok } from '../replies';
import { policyCapabilities } from '../policy';
import { saslMechanisms } from './sasl';
import type { SessionState } from '../state';
import type { Outcome, SessionContext } from './context';

/**
 * RFC 2449 CAPA. USER is listed only where a login can still happen; LOGIN-DELAY and EXPIRE
 * (when a policy is set) are the server's defaults before login and the user's after it.
 */
export function capabilities(state: SessionState, ctx: SessionContext): string[] {
  const caps = ['TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING'];
  if (state.kind === 'AUTHORIZATION' && ctx.security.plaintextAuthAllowed) caps.splice(1, 0, 'USER', `SASL ${saslMechanisms(ctx).join(' ')}`);
  if (state.kind === 'AUTHORIZATION' && ctx.security.canStartTls) caps.push('STLS');
  caps.push(...policyCapabilities(ctx.policy, state.kind === 'TRANSACTION' ? state.terms : undefined));
  caps.push(`IMPLEMENTATION ${ctx.implementation}`);
  return caps;
}

export function capa(state: SessionState, ctx: SessionContext): Outcome {
  return { reply: multiline('capability list follows', capabilities(state, ctx)) };
}

/** RFC 2595 §4: only before login, only on a plain connection of a listener with TLS. */
export function stls(ctx: SessionContext): Outcome {
  if (ctx.security.secure) return { reply: err('already inside TLS'), bad: true };
  if (!ctx.security.canStartTls) return { reply: err('STLS is not offered here'), bad: true };
  return { reply: ok('Begin TLS negotiation'), startTls: true };
}
