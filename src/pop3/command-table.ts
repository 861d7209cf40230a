import { pass, quitAuthorization, user } from './commands/authorization';
import { capa, stls } from './commands/common';
import { auth } from './commands/sasl';
import { withLetter, type CommandSpec } from './commands/context';
import { dele, list, noop, quitTransaction, retr, rset, stat, top, uidl } from './commands/transaction';

/**
 * The one command table (Dovecot's pop3_commands[]): which commands exist, in which state
 * each is valid, and its session-log letter. The dispatcher is the only state check.
 */
export const COMMANDS: ReadonlyMap<string, CommandSpec> = new Map<string, CommandSpec>([
  ['CAPA', { letter: withLetter('c'), authorization: (_c, s, ctx) => capa(s, ctx), transaction: (_c, s, ctx) => capa(s, ctx) }],
  ['USER', { letter: withLetter('u'), authorization: user }],
  ['PASS', { letter: withLetter('p'), authorization: pass }],
  ['AUTH', { letter: withLetter('a'), authorization: auth }],
  ['QUIT', { letter: withLetter('q'), authorization: quitAuthorization, transaction: quitTransaction }],
  ['STAT', { letter: withLetter('s'), transaction: stat }],
  ['LIST', { letter: withLetter('L', 'l'), transaction: list }],
  ['UIDL', { letter: withLetter('U', 'i'), transaction: uidl }],
  ['RETR', { letter: withLetter('r'), transaction: retr }],
  ['TOP', { letter: withLetter('t'), transaction: top }],
  ['DELE', { letter: withLetter('d'), transaction: dele }],
  ['RSET', { letter: withLetter('R'), transaction: rset }],
  ['NOOP', { letter: withLetter('n'), transaction: noop }],
  ['STLS', { letter: withLetter('^'), authorization: (_c, _s, ctx) => stls(ctx) }],
]);

/** The letter logged for a line that is not a known command. */
export const INVALID_LETTER = '!';
