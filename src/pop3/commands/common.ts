import { multiline } from '../replies';
import type { SessionState } from '../state';
import type { Outcome, SessionContext } from './context';

/** RFC 2449 CAPA. USER is listed only where a login can still happen. */
export function capabilities(state: SessionState, ctx: SessionContext): string[] {
  const caps = ['TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING'];
  if (state.kind === 'AUTHORIZATION') caps.splice(1, 0, 'USER');
  caps.push(`IMPLEMENTATION ${ctx.implementation}`);
  return caps;
}

export function capa(state: SessionState, ctx: SessionContext): Outcome {
  return { reply: multiline('capability list follows', capabilities(state, ctx)) };
}
