// Lines formatted straight from a log call's arguments (the logMethod hook) read exactly as
// those that go through pino's JSON and back: both paths, the same calls, the same lines.
import t from 'tap';
import pino from 'pino';
import { directRecord } from '../../src/log/direct-record';
import { formatMessage } from '../../src/log/line-format';
import { openLog } from '../../src/log/logger';
import type { LogConfig } from '../../src/config/types';

const log: LogConfig = { level: 'debug', destination: 'stdout', format: 'rfc3164', facility: 'mail', syslogSocket: '/dev/log', udpAddress: undefined };

type Call = (logger: pino.Logger) => void;
const CALLS: readonly [string, Call][] = [
  ['message only', (l) => l.info('disconnected: peer quit, sequence="upsUr4d4q" delays="3"')],
  ['fields and message', (l) => l.info({ user: 'alice', messages: 4, octets: 18234 }, 'login ok')],
  ['fields only', (l) => l.warn({ user: 'bob' })],
  ['control characters and quotes', (l) => l.info({ user: 'bob\r\n"x"\\', peer: '\u2028' }, 'login failed:\x00 bad')],
  ['non-finite numbers and booleans', (l) => l.info({ a: NaN, b: Infinity, c: -0, d: true, e: undefined }, 'x')],
  ['a msg field and a message', (l) => l.info({ msg: 'inner', x: 1 }, 'outer')],
  ['a msg field alone', (l) => l.info({ msg: 'inner', x: 1 })],
  ['an integer-like key', (l) => l.info({ b: 1, '2': 'two' }, 'keys')],
  ['a level field', (l) => l.info({ level: 'odd', x: 1 }, 'x')],
  ['a long value', (l) => l.info({ user: 'u'.repeat(500) }, 'cut')],
  ['a nested object (pino path)', (l) => l.info({ flags: { a: 1 } }, 'x')],
  ['an error field (pino path)', (l) => l.error({ err: new Error('boom') }, 'session failed')],
  ['an error field, no message (pino path)', (l) => l.error({ err: new Error('boom') })],
  ['an error alone (pino path)', (l) => l.error(new Error('bare'))],
  ['format arguments (pino path)', (l) => l.info('a %s b %d', 'x', 3)],
  ['a session child', (l) => l.child({ session: 7 }).info({ user: 'carol' }, 'login ok')],
  ['a child of a child', (l) => l.child({ session: 7 }).child({ worker: 2 }).info('nested')],
];

/** The line as pino's JSON, read back, would make it. */
function viaJson(call: Call): string[] {
  const lines: string[] = [];
  const logger = pino({ level: 'debug', base: undefined, timestamp: false, serializers: { err: pino.stdSerializers.err } }, {
    write: (json: string) => lines.push(formatMessage(JSON.parse(json) as Record<string, unknown>)),
  });
  call(logger);
  return lines;
}

t.test('both paths write the same lines', async (t) => {
  for (const [name, call] of CALLS) {
    const lines: string[] = [];
    const handle = openLog({ identity: 'r2d2', log, pid: 1, sink: (line) => lines.push(line.slice('r2d2[1]: '.length)), reportIntervalMs: 0 });
    call(handle.log);
    await handle.close();
    t.equal(lines.length, 1, `${name}: one line`);
    t.same(lines, viaJson(call), name);
  }
});

t.test('what the hook leaves to pino', async (t) => {
  t.equal(directRecord([{ a: { b: 1 } }, 'x'], 30, {}), undefined, 'objects');
  t.equal(directRecord([new Error('e')], 50, {}), undefined, 'errors');
  t.equal(directRecord(['a %s', 'b'], 30, {}), undefined, 'format arguments');
  t.equal(directRecord([{ err: 'text' }], 50, {}), undefined, 'an err field without a message');
  t.same(directRecord([{ a: 1 }, 'm'], 30, { session: 3 }), { level: 30, session: 3, a: 1, msg: 'm' });
});
