import t from 'tap';
import { parseCommand } from '../../src/pop3/command';

const parse = (s: string | Buffer) => parseCommand(typeof s === 'string' ? Buffer.from(s) : s);

t.test('keyword is case-insensitive and args split on spaces', async (t) => {
  t.same(parse('list 2'), { kind: 'command', command: { name: 'LIST', args: ['2'], rest: '2' } });
  t.same(parse('Top 1  10'), { kind: 'command', command: { name: 'TOP', args: ['1', '10'], rest: '1  10' } });
  t.same(parse('STAT'), { kind: 'command', command: { name: 'STAT', args: [], rest: '' } });
});

t.test('PASS keeps its whole argument, spaces and UTF-8 included', async (t) => {
  const r = parse('PASS my secret  pässword');
  t.equal(r.kind, 'command');
  if (r.kind === 'command') t.equal(r.command.rest, 'my secret  pässword');
});

t.test('empty lines, control bytes and non-letter keywords are invalid', async (t) => {
  t.same(parse(''), { kind: 'invalid', reason: 'empty command' });
  t.same(parse(Buffer.from([0x53, 0x00, 0x54])), { kind: 'invalid', reason: 'invalid characters in command' });
  t.same(parse('ST\x7fAT'), { kind: 'invalid', reason: 'invalid characters in command' });
  t.same(parse(Buffer.from([0xff, 0xfe, 0x41])), { kind: 'invalid', reason: 'unknown command' });
  t.same(parse('12 3'), { kind: 'invalid', reason: 'unknown command' });
  t.same(parse(' STAT'), { kind: 'invalid', reason: 'unknown command' });
});
