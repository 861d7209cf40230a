// r2d2's log line and its syslog framing: exact text, escaping (no log injection), cuts.
import t from 'tap';
import { escapeValue, formatMessage, formatRecord, MAX_MESSAGE_LENGTH, MAX_VALUE_LENGTH } from '../../src/log/line-format';
import { frame, rfc3164Time, severityOf, type FrameOptions } from '../../src/log/syslog-format';

t.test('the line: tag[pid]: [N] message key="value"', async (t) => {
  t.equal(
    formatRecord('server.pop3.r2d2', 13906, { level: 30, session: 1, msg: 'disconnected: peer quit, sequence="upsUr4d4q" delays="3"' }),
    'server.pop3.r2d2[13906]: [1] disconnected: peer quit, sequence="upsUr4d4q" delays="3"',
  );
  t.equal(
    formatRecord('server.pop3.r2d2', 7, { level: 30, session: 2, user: 'alice', messages: 4, octets: 18234, msg: 'login ok' }),
    'server.pop3.r2d2[7]: [2] login ok user="alice" messages="4" octets="18234"',
  );
  t.equal(formatRecord('r2d2', 7, { level: 30, listener: 'pop3', msg: 'listening on 0.0.0.0:110' }), 'r2d2[7]: listening on 0.0.0.0:110 listener="pop3"', 'no [N] outside a session');
  t.equal(formatMessage({ level: 50, session: 3, err: { type: 'Error', message: 'boom', stack: 'x' }, msg: 'session failed' }), '[3] session failed err="boom"');
  t.equal(formatMessage({ session: 3, skipped: undefined, msg: 'x' }), '[3] x', 'undefined fields are left out');
  t.equal(formatMessage({ session: 3, flags: { a: 1 }, msg: 'x' }), '[3] x flags="{\\"a\\":1}"');
});

t.test('a login name cannot forge a line or a field', async (t) => {
  const user = 'bob\r\nserver.pop3.r2d2[1]: [9] login ok user="root"';
  const message = formatMessage({ session: 5, user, peer: '192.0.2.7', msg: 'login failed: bad credentials' });
  t.equal(message, '[5] login failed: bad credentials user="bob\\x0d\\x0aserver.pop3.r2d2[1]: [9] login ok user=\\"root\\"" peer="192.0.2.7"');
  t.notMatch(message, /[\r\n]/);
  t.equal(escapeValue('a" peer="10.0.0.1'), 'a\\" peer=\\"10.0.0.1', 'a quote cannot start a new field');
  t.equal(escapeValue('back\\slash'), 'back\\\\slash');
  t.equal(escapeValue('\x00\x1b[31m\x7f\x85\u2028\u2029'), '\\x00\\x1b[31m\\x7f\\x85\\u2028\\u2029', 'NUL, ESC, DEL, C1 and Unicode line separators');
  t.equal(escapeValue('héllo ✓'), 'héllo ✓', 'other text is kept');
  t.equal(formatMessage({ session: 1, msg: 'login refused: bad\nreason' }), '[1] login refused: bad\\x0areason', 'control characters in the message too');
});

t.test('long values and lines are cut', async (t) => {
  const long = 'x'.repeat(MAX_VALUE_LENGTH + 50);
  t.equal(escapeValue(long), 'x'.repeat(MAX_VALUE_LENGTH) + '...');
  const pair = '😀'.repeat(MAX_VALUE_LENGTH); // 2 UTF-16 units each
  const cut = escapeValue('a' + pair);
  t.notOk(/[\ud800-\udbff](?![\udc00-\udfff])/.test(cut), 'no half surrogate pair');
  const record: Record<string, unknown> = { session: 1, msg: 'many' };
  for (let i = 0; i < 40; i++) record[`k${i}`] = long;
  const message = formatMessage(record);
  t.ok(message.length <= MAX_MESSAGE_LENGTH + 3, `message cut (${message.length})`);
  t.ok(message.endsWith('...'));
});

t.test('syslog severities from pino levels', async (t) => {
  t.same([10, 20, 30, 40, 50, 60].map(severityOf), [7, 7, 6, 4, 3, 2]);
});

t.test('RFC 3164 and RFC 5424 frames', async (t) => {
  const at = new Date(2026, 0, 5, 9, 3, 7, 120); // local time
  t.equal(rfc3164Time(at), 'Jan  5 09:03:07');
  const base: FrameOptions = { format: 'rfc3164', facility: 'mail', tag: 'server.pop3.r2d2', pid: 13906, hostname: undefined };
  const message = '[1] disconnected: peer quit, sequence="upsUr4d4q" delays="3"';
  t.equal(frame(base, message, 30, at), `<22>Jan  5 09:03:07 server.pop3.r2d2[13906]: ${message}`, 'the local socket: no host name, like syslog(3)');
  t.equal(frame({ ...base, hostname: 'mx1' }, message, 40, at), `<20>Jan  5 09:03:07 mx1 server.pop3.r2d2[13906]: ${message}`, 'UDP: with the host name');
  t.equal(frame({ ...base, facility: 'local3' }, message, 50, at), `<155>Jan  5 09:03:07 server.pop3.r2d2[13906]: ${message}`);
  t.equal(
    frame({ ...base, format: 'rfc5424', hostname: 'mx1.example.org' }, message, 30, at),
    `<22>1 ${at.toISOString()} mx1.example.org server.pop3.r2d2 13906 - - ${message}`,
  );
  t.equal(frame({ ...base, format: 'rfc5424', hostname: 'bad host', tag: 'x'.repeat(60) }, 'm', 30, at), `<22>1 ${at.toISOString()} bad_host ${'x'.repeat(48)} 13906 - - m`);
});
