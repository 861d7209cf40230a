// Pop3Session through bytes alone (issue 11): raw bytes in, exact bytes out, with the embedded
// SQLite accounts and a temporary maildir; no database server, no socket; time moved by hand.
import t from 'tap';
import { existsSync, readdirSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ByteSessions } from '../helpers/byte-session';
import { asServed, putMessage } from '../helpers/maildir';

const CRLF = '\r\n';
const lines = (...l: string[]): string => l.map((x) => x + CRLF).join('');

const FIRST = 'Subject: one\n\nbody\n';
const SECOND = 'Subject: two\n\n.dot line\n..two dots\nno final newline';
const size = (m: string): number => asServed(m).length;

t.test('AUTHORIZATION: each line gets its reply, in order, whatever the chunking', async (t) => {
  const s = new ByteSessions(t);
  s.addUser('alice', 'secret');
  const cases: Array<[string, string, string]> = [
    ['a command of the other state', 'STAT\r\n', lines('-ERR STAT is not valid in this state')],
    ['an unknown command', 'FROB\r\n', lines('-ERR unknown command')],
    ['an empty line', '\r\n', lines('-ERR empty command')],
    ['a control byte', 'US\x01ER a\r\n', lines('-ERR invalid characters in command')],
    ['a line over 255 octets', 'USER ' + 'x'.repeat(300) + '\r\n', lines('-ERR command line too long')],
    ['PASS before USER', 'PASS secret\r\n', lines('-ERR send USER first')],
    ['USER without a name', 'USER\r\n', lines('-ERR USER needs a name')],
    ['AUTH without a mechanism', 'AUTH\r\n', lines('-ERR AUTH needs a mechanism (see CAPA: SASL PLAIN LOGIN)')],
    ['a bare LF ends a line too', 'NOOP\n', lines('-ERR NOOP is not valid in this state')],
    ['CAPA', 'CAPA\r\n', lines('+OK capability list follows', 'TOP', 'USER', 'SASL PLAIN LOGIN', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING', 'IMPLEMENTATION r2d2', '.')],
  ];
  for (const [name, input, output] of cases) {
    const c = s.open();
    await c.wire.until(/ready\r\n$/);
    t.equal(await c.exchange(input, /\r\n$/), output, name);
  }
  const c = s.open();
  t.equal(c.wire.take(), '+OK r2d2 ready\r\n', 'the greeting');
  // One login split at every awkward place: inside the keyword, between CR and LF.
  for (const piece of ['US', 'ER al', 'ice\r', '\nPA', 'SS sec', 'ret\r', '\n']) c.send(piece);
  await c.wire.until(/octets\)\r\n$/);
  t.equal(c.wire.take(), lines('+OK send PASS', '+OK alice has 0 messages (0 octets)'));
});

t.test('TRANSACTION: the dispatcher checks argument shapes and message numbers once', async (t) => {
  const s = new ByteSessions(t);
  const md = s.addUser('bob', 'pw');
  putMessage(md, FIRST);
  putMessage(md, SECOND);
  const c = s.open();
  await c.exchange('USER bob\r\nPASS pw\r\n', /octets\)\r\n$/);
  const total = size(FIRST) + size(SECOND);
  const cases: Array<[string, string]> = [
    ['STAT', `+OK 2 ${total}`],
    ['STAT 1', '-ERR too many arguments'],
    ['NOOP x', '-ERR too many arguments'],
    ['LIST 1 2', '-ERR too many arguments'],
    ['LIST x', '-ERR invalid message number'],
    ['LIST 0', '-ERR invalid message number'],
    ['LIST 3', '-ERR no such message'],
    ['LIST 2', `+OK 2 ${size(SECOND)}`],
    ['RETR', '-ERR invalid message number'],
    ['RETR 1 2', '-ERR too many arguments'],
    ['TOP 1', '-ERR TOP needs a message number and a line count'],
    ['TOP 1 x', '-ERR TOP needs a message number and a line count'],
    ['TOP 9 1', '-ERR no such message'],
    ['TOP 1 0 0', '-ERR too many arguments'],
    ['DELE', '-ERR invalid message number'],
    ['DELE 1', '+OK message 1 deleted'],
    ['DELE 1', '-ERR message already deleted'],
    ['RETR 1', '-ERR message already deleted'],
    ['STAT', `+OK 1 ${size(SECOND)}`],
    ['RSET', `+OK maildrop has 2 messages (${total} octets)`],
    ['USER bob', '-ERR USER is not valid in this state'],
    ['NOOP', '+OK'],
  ];
  for (const [input, output] of cases) t.equal(await c.exchange(input + CRLF, /\r\n$/), output + CRLF, input);
  t.equal(await c.exchange('LIST\r\n', /\r\n\.\r\n$/), lines(`+OK 2 messages (${total} octets)`, `1 ${size(FIRST)}`, `2 ${size(SECOND)}`, '.'));
  const uidl = await c.exchange('UIDL\r\n', /\r\n\.\r\n$/);
  t.match(uidl, /^\+OK unique-id listing follows\r\n1 \S+\r\n2 \S+\r\n\.\r\n$/);
});

t.test('RETR and TOP: LF to CRLF, dot-stuffing, a final CRLF; pipelined replies stay in order', async (t) => {
  const s = new ByteSessions(t);
  const md = s.addUser('carol', 'pw');
  putMessage(md, FIRST);
  putMessage(md, SECOND);
  const c = s.open();
  await c.exchange('USER carol\r\nPASS pw\r\n', /octets\)\r\n$/);
  const out = await c.exchange('RETR 2\r\nTOP 2 1\r\nRETR 1\r\nNOOP\r\n', /\+OK\r\n$/);
  t.equal(
    out,
    `+OK ${size(SECOND)} octets\r\nSubject: two\r\n\r\n..dot line\r\n...two dots\r\nno final newline\r\n.\r\n` +
      '+OK top of message follows\r\nSubject: two\r\n\r\n..dot line\r\n.\r\n' +
      `+OK ${size(FIRST)} octets\r\nSubject: one\r\n\r\nbody\r\n.\r\n` +
      '+OK\r\n',
  );
});

t.test('the replies of a pipelined burst are held (cork) and leave together; a streamed message is never held', async (t) => {
  const s = new ByteSessions(t);
  const md = s.addUser('cora', 'pw');
  putMessage(md, FIRST);
  const c = s.open();
  const out = await c.exchange('USER cora\r\nPASS pw\r\nSTAT\r\nUIDL\r\nLIST\r\nNOOP\r\n', /\+OK\r\n$/);
  t.match(out, /^\+OK send PASS\r\n\+OK .*octets\)\r\n\+OK 1 \d+\r\n\+OK unique-id.*\r\n1 .*\r\n\.\r\n\+OK 1 messages.*\r\n1 \d+\r\n\.\r\n\+OK\r\n$/, 'in order');
  t.equal(c.wire.corked, 0, 'nothing left held');
  t.equal(c.wire.uncorks, 1, 'one release: the burst left in one write');
  t.equal(c.wire.corkedWrites, 6, 'all six replies were held');
  const before = c.wire.uncorks;
  await c.exchange('NOOP\r\nRETR 1\r\nNOOP\r\n', /\.\r\n\+OK\r\n$/);
  t.equal(c.wire.corked, 0);
  t.equal(c.wire.uncorks, before + 1, 'the NOOP held before RETR went out before the message, which was not held');
  await c.exchange('QUIT\r\n', /signing off/);
  t.equal(c.wire.corked, 0, 'nothing held at the end');
});

t.test('QUIT removes what DELE marked, tells the truth, and the disconnect line is logged', async (t) => {
  const s = new ByteSessions(t);
  const md = s.addUser('dave', 'pw');
  putMessage(md, FIRST);
  putMessage(md, SECOND);
  const c = s.open();
  await c.exchange('USER dave\r\nPASS pw\r\n', /octets\)\r\n$/);
  t.equal(await c.exchange('DELE 2\r\nQUIT\r\n', /deleted\)\r\n$/), lines('+OK message 2 deleted', '+OK r2d2 signing off (1 message deleted)'));
  await c.ended;
  t.equal(readdirSync(join(md, 'new')).length, 1, 'one message left');
  t.ok(s.lines.some((l) => l.includes('disconnected: peer quit, sequence="updq" delays="0"')), 'the session line');
  t.notOk(existsSync(join(md, '.r2d2.lock')), 'the lock is gone');
});

t.test('timeouts and the failed-login delay run on the injected clock: nothing sleeps', async (t) => {
  const s = new ByteSessions(t);
  s.addUser('erin', 'pw');
  const idle = s.open({ idleTimeoutMs: 600_000 });
  await idle.exchange('USER erin\r\nPASS pw\r\n', /octets\)\r\n$/);
  idle.clock.advance(599_999);
  t.equal(idle.wire.text, '', 'not yet');
  idle.clock.advance(1);
  await idle.ended;
  t.equal(idle.wire.take(), lines('-ERR autologout: idle for too long'));
  t.ok(s.lines.some((l) => /disconnected: timeout, sequence="up"/.test(l)));

  const slow = s.open({ loginTimeoutMs: 60_000 });
  slow.clock.advance(60_000);
  await slow.ended;
  t.match(slow.wire.text, /-ERR autologout: no login in time\r\n$/);

  const guesser = s.open({ failureDelayMs: 1000 });
  guesser.send('USER erin\r\nPASS wrong\r\n');
  await guesser.wire.until(/send PASS\r\n$/);
  for (let i = 0; i < 10_000 && guesser.clock.waiting < 3; i++) await new Promise((r) => setImmediate(r));
  t.equal(guesser.clock.waiting, 3, 'idle and login timers, and the failure delay');
  guesser.clock.advance(999);
  await new Promise((r) => setImmediate(r));
  t.notMatch(guesser.wire.text, /AUTH/, 'no answer before the delay is over');
  guesser.clock.advance(1);
  await guesser.wire.until(/\[AUTH\] Authentication failed\r\n$/);
  t.pass('answered once the delay passed');
});

t.test('bad commands in a row close the session; a good one resets the count', async (t) => {
  const s = new ByteSessions(t);
  const c = s.open({ maxBadCommands: 3 });
  await c.exchange('FOO\r\nBAR\r\nCAPA\r\nFOO\r\nBAR\r\n', /BAR|unknown command\r\n-ERR unknown command\r\n$/);
  t.equal(await c.exchange('BAZ\r\n', /closing\r\n$/), lines('-ERR too many bad commands, closing'));
  await c.ended;
});

t.test('untrusted files: a vanished message, a FIFO, a symlink, a lying size', async (t) => {
  const s = new ByteSessions(t);
  const md = s.addUser('frank', 'pw');
  const gone = putMessage(md, FIRST);
  writeFileSync(join(s.mail.path, 'secret'), 'not yours\n');
  symlinkSync(join(s.mail.path, 'secret'), join(md, 'new', '9000000001.M1P1Q1ZA.host'));
  execFileSync('mkfifo', [join(md, 'new', '9000000002.M1P1Q1Z10.host')]);
  writeFileSync(join(md, 'new', '9000000003.M1P1Q1Z5.host'), 'Subject: liar\n\n' + 'x'.repeat(500));
  const c = s.open();
  await c.exchange('USER frank\r\nPASS pw\r\n', /octets\)\r\n$/);
  unlinkSync(join(md, 'new', gone));
  t.equal(await c.exchange('RETR 1\r\n', /\r\n$/), lines('-ERR message was removed from the maildrop'));
  t.equal(await c.exchange('RETR 2\r\n', /\r\n$/), lines('-ERR [SYS/TEMP] message cannot be read now'), 'a symlink is not followed');
  t.equal(await c.exchange('RETR 3\r\n', /\r\n$/), lines('-ERR [SYS/TEMP] message cannot be read now'), 'a FIFO is not waited on');
  t.equal(await c.exchange('RETR 4\r\n', /\r\n\.\r\n$/), '+OK 5 octets\r\nSubje\r\n.\r\n', 'no more than the 5 octets announced');
  t.ok(s.lines.some((l) => /message cannot be read .*code="ELOOP"/.test(l)));
  t.ok(s.lines.some((l) => /message cannot be read .*code="ENOTREG"/.test(l)));
  t.ok(s.lines.some((l) => /message larger than its name says/.test(l)));
});

t.test('a shutdown notice waits behind the message being streamed, never inside it', async (t) => {
  const s = new ByteSessions(t);
  const md = s.addUser('gina', 'pw');
  const big = 'Subject: big\n\n' + 'y'.repeat(999).concat('\n').repeat(400);
  putMessage(md, big);
  const c = s.open();
  await c.exchange('USER gina\r\nPASS pw\r\n', /octets\)\r\n$/);
  c.wire.hold = true;
  c.send('RETR 1\r\n');
  for (let i = 0; i < 10_000 && c.wire.stalled === 0; i++) await new Promise((r) => setImmediate(r));
  t.equal(c.wire.stalled, 1, 'the first chunk waits for the client');
  c.runner.shutdown();
  c.wire.hold = false;
  c.wire.drain();
  await c.ended;
  t.equal(c.wire.take(), `+OK ${size(big)} octets\r\n` + asServed(big).toString('latin1') + '.\r\n' + lines('-ERR [SYS/TEMP] server shutting down'));
  t.ok(s.lines.some((l) => l.includes('disconnected: server shutdown')));
});

t.test('a kick ends a session as a shutdown does: after the message in flight, reason "kicked", no deletion applied', async (t) => {
  const s = new ByteSessions(t);
  const md = s.addUser('hal', 'pw');
  const big = 'Subject: big\n\n' + 'z'.repeat(999).concat('\n').repeat(400);
  putMessage(md, big);
  putMessage(md, 'Subject: small\n\nbody\n');
  const c = s.open();
  await c.exchange('USER hal\r\nPASS pw\r\n', /octets\)\r\n$/);
  t.equal(await c.exchange('DELE 2\r\n', /\r\n$/), lines('+OK message 2 deleted'));
  c.wire.hold = true;
  c.send('RETR 1\r\n');
  for (let i = 0; i < 10_000 && c.wire.stalled === 0; i++) await new Promise((r) => setImmediate(r));
  t.equal(c.runner.kick(), true);
  t.equal(c.runner.kick(), false, 'a session already ending is not kicked twice');
  c.wire.hold = false;
  c.wire.drain();
  await c.ended;
  t.equal(c.wire.take(), `+OK ${size(big)} octets\r\n` + asServed(big).toString('latin1') + '.\r\n' + lines('-ERR [SYS/TEMP] disconnected by the server administrator'));
  t.ok(s.lines.some((l) => l.includes('disconnected: kicked')));
  t.equal(readdirSync(join(md, 'new')).length, 2, 'the DELE was not applied');
});
