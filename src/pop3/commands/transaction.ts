import type { Command } from '../command';
import type { MessageEntry } from '../../maildrop/scan';
import { err, message, multiline, ok, type Reply } from '../replies';
import type { TransactionState } from '../state';
import type { FoundMessage, Outcome, SessionContext } from './context';

// Arguments are checked, and message numbers resolved, by the dispatcher (see command-table.ts).

const BODY_LINES = /^[0-9]{1,9}$/;

export function stat(_command: Command, state: TransactionState): Outcome {
  const { messages, octets } = state.drop.live;
  return { reply: ok(`${messages} ${octets}`) };
}

export function list(_command: Command, state: TransactionState, _ctx: SessionContext, found: FoundMessage | undefined): Outcome {
  return listing(state, found, (n, m) => `${n} ${m.size}`, (live) => `${live.messages} messages (${live.octets} octets)`);
}

export function uidl(_command: Command, state: TransactionState, _ctx: SessionContext, found: FoundMessage | undefined): Outcome {
  return listing(state, found, (n, m) => `${n} ${m.uidl}`, () => 'unique-id listing follows');
}

function listing(
  state: TransactionState,
  found: FoundMessage | undefined,
  line: (number: number, entry: MessageEntry) => string,
  head: (live: { messages: number; octets: number }) => string,
): Outcome {
  if (found !== undefined) return { reply: ok(line(found.number, found.entry)) };
  const lines: string[] = [];
  state.drop.forEachLive((n, entry) => lines.push(line(n, entry)));
  return { reply: multiline(head(state.drop.live), lines) };
}

export function retr(_command: Command, state: TransactionState, ctx: SessionContext, found: FoundMessage): Outcome {
  ctx.metrics.retrieved('retr');
  // Retrieved (RFC 2449 EXPIRE) only once the whole message went out; TOP never counts.
  const retrieved = (): void => state.drop.markRetrieved(found.number);
  return { reply: message(`${found.entry.size} octets`, state.drop.message(found.entry), undefined, retrieved) };
}

export function top(command: Command, state: TransactionState, ctx: SessionContext, found: FoundMessage): Outcome {
  const lines = command.args[1];
  if (lines === undefined || !BODY_LINES.test(lines)) return { reply: err('TOP needs a message number and a line count'), bad: true };
  ctx.metrics.retrieved('top');
  return { reply: message('top of message follows', state.drop.message(found.entry), Number(lines)) };
}

export function dele(_command: Command, state: TransactionState, _ctx: SessionContext, found: FoundMessage): Outcome {
  state.drop.markDeleted(found.number);
  return { reply: ok(`message ${found.number} deleted`) };
}

export function rset(_command: Command, state: TransactionState): Outcome {
  state.drop.reset();
  const { messages, octets } = state.drop.live;
  return { reply: ok(`maildrop has ${messages} messages (${octets} octets)`) };
}

export function noop(): Outcome {
  return { reply: ok('') };
}

/**
 * RFC 1939 §6: the UPDATE state. The reply tells the truth about the deletions the client asked
 * for; an EXPIRE policy (RFC 2449 §6.7) then removes what was retrieved long enough ago.
 */
export async function quitTransaction(_command: Command, state: TransactionState, ctx: SessionContext): Promise<Outcome> {
  const doomed = state.drop.doomedCount;
  const days = state.terms.expire;
  const expire = typeof days === 'number' ? { days, nowMs: ctx.clock.now() } : undefined;
  let reply: Reply = ok('r2d2 signing off');
  try {
    if (doomed > 0 || expire !== undefined) {
      const result = await state.drop.update(expire);
      if (result.lockLost !== undefined) {
        // Another host may serve this maildrop now (a lease that expired or was taken): its
        // client's view wins; ours is dropped whole and the client asks again next time.
        reply = err('[SYS/TEMP] maildrop lock lost: no messages deleted, try again');
      } else {
        ctx.metrics.deleted(result.deleted + result.expired, result.failed);
        if (result.deleted + result.failed + result.expired + result.recorded + result.retentionFailed > 0) {
          const retention = expire === undefined ? {} : { expired: result.expired, recorded: result.recorded };
          ctx.log.info({ user: state.user, deleted: result.deleted, failed: result.failed, ...retention }, 'update done');
        }
        if (result.retentionFailed > 0) ctx.log.warn({ user: state.user, failed: result.retentionFailed }, 'expire: some messages not expired or recorded now');
        reply = result.failed === 0 ? ok(`r2d2 signing off${signOffNote(doomed > 0 ? result.deleted : undefined, result.expired)}`) : err(`[SYS/TEMP] some deleted messages not removed (${result.failed} of ${doomed})`);
      }
    }
  } finally {
    try {
      await state.drop.release();
    } catch (error) {
      // The deletions are done (or reported); the lock is retried in the background.
      ctx.log.error({ user: state.user, err: error }, 'maildrop lock not released now; retrying');
    }
  }
  return { reply, next: { kind: 'UPDATE' }, close: 'peer quit' };
}

/** `(2 messages deleted)`, `(2 messages deleted, 1 expired)`, `(1 message expired)` or nothing. */
function signOffNote(deleted: number | undefined, expired: number): string {
  const messages = (n: number): string => `${n} message${n === 1 ? '' : 's'}`;
  if (deleted === undefined) return expired > 0 ? ` (${messages(expired)} expired)` : '';
  return ` (${messages(deleted)} deleted${expired > 0 ? `, ${expired} expired` : ''})`;
}
