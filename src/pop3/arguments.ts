import type { Command } from './command';
import type { FoundMessage, Outcome, SessionContext, TransactionCommand } from './commands/context';
import { err } from './replies';
import type { TransactionState } from './state';

type Result = Outcome | Promise<Outcome>;

const LOCK_LOST = '[SYS/TEMP] maildrop lock lost: log in again';

/**
 * Runs a TRANSACTION command after checking its arguments against its shape: too many
 * arguments, and a message number that is not a number, out of range or deleted (RFC 1939 §5),
 * are answered here, once for every command; the handler gets the message already found.
 */
export function runTransaction(spec: TransactionCommand, command: Command, state: TransactionState, ctx: SessionContext): Result {
  // A lock that may be another session's now (a lease not renewed in time, or taken): nothing
  // more is served from this maildrop; QUIT says so and deletes nothing (quitTransaction).
  if (command.name !== 'QUIT' && state.drop.lockLost !== undefined) return { reply: err(LOCK_LOST) };
  if (command.args.length > spec.max) return { reply: err('too many arguments'), bad: true };
  const argument = command.args[0];
  switch (spec.message) {
    case 'none':
      return spec.run(command, state, ctx);
    case 'optional': {
      if (argument === undefined) return spec.run(command, state, ctx, undefined);
      const found = find(state, argument);
      return 'entry' in found ? spec.run(command, state, ctx, found) : found;
    }
    case 'required': {
      const found = find(state, argument);
      return 'entry' in found ? spec.run(command, state, ctx, found) : found;
    }
  }
}

function find(state: TransactionState, argument: string | undefined): FoundMessage | Outcome {
  const lookup = state.drop.lookup(argument);
  switch (lookup.kind) {
    case 'found':
      return { number: lookup.number, entry: lookup.entry };
    case 'invalid':
      return { reply: err('invalid message number'), bad: true };
    case 'missing':
      return { reply: err('no such message') };
    case 'deleted':
      return { reply: err('message already deleted') };
  }
}
