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

export function retr(_command: Command, state: TransactionState, _ctx: SessionContext, found: FoundMessage): Outcome {
  return { reply: message(`${found.entry.size} octets`, state.drop.message(found.entry)) };
}

export function top(command: Command, state: TransactionState, _ctx: SessionContext, found: FoundMessage): Outcome {
  const lines = command.args[1];
  if (lines === undefined || !BODY_LINES.test(lines)) return { reply: err('TOP needs a message number and a line count'), bad: true };
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

/** RFC 1939 §6: the UPDATE state. The reply tells the truth about the deletions. */
export async function quitTransaction(_command: Command, state: TransactionState, ctx: SessionContext): Promise<Outcome> {
  const doomed = state.drop.doomedCount;
  let reply: Reply = ok('r2d2 signing off');
  try {
    if (doomed > 0) {
      const result = await state.drop.update();
      if (result.lockLost !== undefined) {
        // Another host may serve this maildrop now (a lease that expired or was taken): its
        // client's view wins; ours is dropped whole and the client asks again next time.
        reply = err('[SYS/TEMP] maildrop lock lost: no messages deleted, try again');
      } else {
        ctx.log.info({ user: state.user, deleted: result.deleted, failed: result.failed }, 'update done');
        reply =
          result.failed === 0
            ? ok(`r2d2 signing off (${result.deleted} message${result.deleted === 1 ? '' : 's'} deleted)`)
            : err(`[SYS/TEMP] some deleted messages not removed (${result.failed} of ${doomed})`);
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
