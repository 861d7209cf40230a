import { applyDeletions } from '../../maildrop/update';
import { messagePath } from '../../maildrop/scan';
import type { Command } from '../command';
import type { MessageEntry } from '../../maildrop/scan';
import { err, message, multiline, ok, type Reply } from '../replies';
import type { TransactionState } from '../state';
import type { Outcome, SessionContext } from './context';

const BODY_LINES = /^[0-9]{1,9}$/;

type Found = { readonly entry: MessageEntry; readonly number: number };

/** Resolves a message-number argument, or says why not (RFC 1939 §5). */
function find(state: TransactionState, argument: string | undefined): Found | Outcome {
  const result = state.drop.lookup(argument);
  switch (result.kind) {
    case 'found':
      return { entry: result.entry, number: Number(argument) };
    case 'invalid':
      return { reply: err('invalid message number'), bad: true };
    case 'missing':
      return { reply: err('no such message') };
    case 'deleted':
      return { reply: err('message already deleted') };
  }
}

const isFound = (value: Found | Outcome): value is Found => 'entry' in value;

function tooManyArguments(command: Command, allowed: number): Outcome | undefined {
  return command.args.length > allowed ? { reply: err('too many arguments'), bad: true } : undefined;
}

export function stat(command: Command, state: TransactionState): Outcome {
  const extra = tooManyArguments(command, 0);
  if (extra) return extra;
  const { messages, octets } = state.drop.live;
  return { reply: ok(`${messages} ${octets}`) };
}

export function list(command: Command, state: TransactionState): Outcome {
  return scanListing(command, state, (n, m) => `${n} ${m.size}`, (live) => `${live.messages} messages (${live.octets} octets)`);
}

export function uidl(command: Command, state: TransactionState): Outcome {
  return scanListing(command, state, (n, m) => `${n} ${m.uidl}`, () => 'unique-id listing follows');
}

function scanListing(
  command: Command,
  state: TransactionState,
  line: (number: number, entry: MessageEntry) => string,
  head: (live: { messages: number; octets: number }) => string,
): Outcome {
  const extra = tooManyArguments(command, 1);
  if (extra) return extra;
  if (command.args.length === 1) {
    const found = find(state, command.args[0]);
    return isFound(found) ? { reply: ok(line(found.number, found.entry)) } : found;
  }
  const lines: string[] = [];
  state.drop.forEachLive((n, entry) => lines.push(line(n, entry)));
  return { reply: multiline(head(state.drop.live), lines) };
}

export function retr(command: Command, state: TransactionState): Outcome {
  const extra = tooManyArguments(command, 1);
  if (extra) return extra;
  const found = find(state, command.args[0]);
  if (!isFound(found)) return found;
  return { reply: message(`${found.entry.size} octets`, messagePath(state.drop.maildir, found.entry), found.entry.size) };
}

export function top(command: Command, state: TransactionState): Outcome {
  const extra = tooManyArguments(command, 2);
  if (extra) return extra;
  const found = find(state, command.args[0]);
  if (!isFound(found)) return found;
  const lines = command.args[1];
  if (lines === undefined || !BODY_LINES.test(lines)) return { reply: err('TOP needs a message number and a line count'), bad: true };
  return { reply: message('top of message follows', messagePath(state.drop.maildir, found.entry), found.entry.size, Number(lines)) };
}

export function dele(command: Command, state: TransactionState): Outcome {
  const extra = tooManyArguments(command, 1);
  if (extra) return extra;
  const found = find(state, command.args[0]);
  if (!isFound(found)) return found;
  state.drop.markDeleted(found.number);
  return { reply: ok(`message ${found.number} deleted`) };
}

export function rset(command: Command, state: TransactionState): Outcome {
  const extra = tooManyArguments(command, 0);
  if (extra) return extra;
  state.drop.reset();
  const { messages, octets } = state.drop.live;
  return { reply: ok(`maildrop has ${messages} messages (${octets} octets)`) };
}

export function noop(command: Command): Outcome {
  return tooManyArguments(command, 0) ?? { reply: ok('') };
}

/** RFC 1939 §6: the UPDATE state. The reply tells the truth about the deletions. */
export async function quitTransaction(_command: Command, state: TransactionState, ctx: SessionContext): Promise<Outcome> {
  const doomed = state.drop.doomed();
  let reply: Reply = ok('r2d2 signing off');
  try {
    if (doomed.length > 0) {
      const result = await applyDeletions(state.drop.maildir, doomed);
      ctx.log.info({ user: state.user, deleted: result.deleted, failed: result.failed }, 'update done');
      reply =
        result.failed === 0
          ? ok(`r2d2 signing off (${result.deleted} message${result.deleted === 1 ? '' : 's'} deleted)`)
          : err(`[SYS/TEMP] some deleted messages not removed (${result.failed} of ${doomed.length})`);
    }
  } finally {
    try {
      await state.drop.lock.release();
    } catch (error) {
      // The deletions are done (or reported); the lock is retried in the background.
      ctx.log.error({ user: state.user, err: error }, 'maildrop lock not released now; retrying');
    }
  }
  return { reply, next: { kind: 'UPDATE' }, close: 'peer quit' };
}
