import { pass, quitAuthorization, user } from './commands/authorization';
import { capa, stls } from './commands/common';
import { auth } from './commands/sasl';
import { ANY_COUNT, withLetter, type CommandSpec } from './commands/context';
import { dele, list, noop, quitTransaction, retr, rset, stat, top, uidl } from './commands/transaction';

/**
 * The one command table (Dovecot's pop3_commands[]): which commands exist, in which state
 * each is valid, the arguments each takes, and its session-log letter. The dispatcher is the
 * only state and argument check.
 */
export const COMMANDS: ReadonlyMap<string, CommandSpec> = new Map<string, CommandSpec>([
  [
    'CAPA',
    {
      letter: withLetter('c'),
      authorization: (_c, s, ctx) => capa(s, ctx),
      transaction: { message: 'none', max: ANY_COUNT, run: (_c, s, ctx) => capa(s, ctx) },
    },
  ],
  ['USER', { letter: withLetter('u'), authorization: user }],
  ['PASS', { letter: withLetter('p'), authorization: pass }],
  ['AUTH', { letter: withLetter('a'), authorization: auth }],
  ['QUIT', { letter: withLetter('q'), authorization: quitAuthorization, transaction: { message: 'none', max: ANY_COUNT, run: quitTransaction } }],
  ['STAT', { letter: withLetter('s'), transaction: { message: 'none', max: 0, run: stat } }],
  ['LIST', { letter: withLetter('L', 'l'), transaction: { message: 'optional', max: 1, run: list } }],
  ['UIDL', { letter: withLetter('U', 'i'), transaction: { message: 'optional', max: 1, run: uidl } }],
  ['RETR', { letter: withLetter('r'), transaction: { message: 'required', max: 1, run: retr } }],
  ['TOP', { letter: withLetter('t'), transaction: { message: 'required', max: 2, run: top } }],
  ['DELE', { letter: withLetter('d'), transaction: { message: 'required', max: 1, run: dele } }],
  ['RSET', { letter: withLetter('R'), transaction: { message: 'none', max: 0, run: rset } }],
  ['NOOP', { letter: withLetter('n'), transaction: { message: 'none', max: 0, run: noop } }],
  ['STLS', { letter: withLetter('^'), authorization: (_c, _s, ctx) => stls(ctx) }],
]);

/** The letter logged for a line that is not a known command. */
export const INVALID_LETTER = '!';
