import t from 'tap';
import { fixture } from '../helpers/fixture';
import { closeSync, openSync, writeSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { join } from 'node:path';
import { uniqueName } from '../../src/deliver/unique-name';
import { Pop3Client } from '../helpers/pop3-client';

/** A full GC, so what is measured is what is still held, not garbage not yet collected. */
setFlagsFromString('--expose_gc');
const collectGarbage = runInNewContext('gc') as () => void;

const delays = (lines: string[]): number[] =>
  lines.map((l) => /login failure delay delayMs="(\d+)"/.exec(l)?.[1]).filter((d): d is string => d !== undefined).map(Number);

t.test('failed logins wait, the wait grows per address and per name, and a repeated password does not escalate', async (t) => {
  const f = await fixture(t, { limits: 'auth_failure_delay_ms = 100  auth_penalty_max_ms = 350' });
  await f.db.addUser('alice', 'right', f.mail.maildir('alice'));
  const c = await f.client();
  const started = Date.now();
  t.same(await c.login('nobody', 'x'), { ok: false, text: '[AUTH] Authentication failed' });
  t.ok(Date.now() - started >= 100, 'the -ERR waits');
  t.same(await c.login('alice', 'wrong1'), { ok: false, text: '[AUTH] Authentication failed' }, 'same text for a wrong password');
  await c.login('alice', 'wrong2');
  await c.login('alice', 'wrong2'); // the same wrong password again: a misconfigured client
  await c.login('alice', 'wrong3');
  t.same(delays(f.server.lines), [100, 200, 350, 350, 350], 'doubling per failure, capped; the repeat did not add one');
  t.ok((await c.login('alice', 'right')).ok, 'a good login still works');
  await c.cmd('QUIT');
  const again = await f.client();
  await again.login('alice', 'wrong4');
  // Issue 12: a success clears the account's count, never the address's (an attacker logging
  // into an account of their own between guesses kept a steady 1 s per guess).
  t.equal(delays(f.server.lines).at(-1), 350, "a success does not clear the address's count");
});

t.test('unknown users and wrong passwords are told apart neither by text nor by delay', async (t) => {
  const f = await fixture(t, { limits: 'auth_failure_delay_ms = 50' });
  await f.db.addUser('bob', 'right', f.mail.maildir('bob'));
  const a = await f.client();
  const unknown = await a.login('ghost', 'x');
  const b = await Pop3Client.greeted(f.server.port);
  t.teardown(() => b.client.destroy());
  const wrong = await b.client.login('bob', 'y');
  t.same(unknown, wrong);
  const [d1, d2] = delays(f.server.lines);
  t.equal(d1, 50);
  t.equal(d2, 100, 'the second failure from the address waits longer, whoever it names');
});

t.test('max_connections_per_address refuses the extra connection', async (t) => {
  const f = await fixture(t, { limits: 'auth_failure_delay_ms = 0  max_connections_per_address = 2' });
  const one = await f.client();
  await f.client();
  const third = await Pop3Client.open(f.server.port);
  t.same(await third.readStatus(), { ok: false, text: '[SYS/TEMP] too many connections, try again later' });
  await third.waitClosed();
  await f.server.waitForLine(/connection refused: max_connections_per_address reached/);
  one.destroy();
  await f.server.waitForLine(/disconnected: peer closed/);
  const fourth = await f.client();
  t.ok((await fourth.cmd('CAPA')).ok, 'a place is free again');
});

t.test('slowloris: a byte at a time, or commands without a login, are timed out', async (t) => {
  const f = await fixture(t, { idleTimeout: 1, limits: 'auth_failure_delay_ms = 0  login_timeout = 2' });
  const trickle = await f.client();
  for (const byte of 'CAPA') {
    if (trickle.closed) break;
    trickle.send(byte);
    await new Promise((r) => setTimeout(r, 300));
  }
  t.equal(await trickle.readToClose(), '-ERR autologout: idle for too long\r\n', 'bytes that make no command are not activity');
  const chatty = await f.client();
  const timer = setInterval(() => chatty.send('NOOP\r\n'), 200);
  t.teardown(() => clearInterval(timer));
  const rest = await chatty.readToClose();
  clearInterval(timer);
  t.match(rest, /-ERR autologout: no login in time\r\n$/, 'commands alone do not keep an unauthenticated session');
  await f.server.waitForLine(/disconnected: timeout, sequence="n\d+"/);
});

t.test('a client that stops reading mid-RETR holds bounded memory and is timed out', async (t) => {
  const f = await fixture(t, { idleTimeout: 1 });
  const md = f.mail.maildir('big');
  // 30 MB written in small pieces, so the test itself holds no big buffer to blur the measure.
  const line = Buffer.from('z'.repeat(1000) + '\n');
  const head = Buffer.from('Subject: big\n\n');
  const fd = openSync(join(md, 'new', uniqueName(head.length + 2 + 30_000 * (line.length + 1))), 'w');
  writeSync(fd, head);
  for (let i = 0; i < 30_000; i++) writeSync(fd, line);
  closeSync(fd);
  await f.db.addUser('big', 'pw', md);
  const c = await f.loggedIn('big', 'pw');
  c.socket.pause();
  collectGarbage();
  const before = process.memoryUsage();
  c.send('RETR 1\r\n');
  await f.server.waitForLine(/disconnected: timeout/, 10_000);
  // Backing stores of collected buffers are freed by V8 after the sweep: collect, let it run, again.
  for (let i = 0; i < 3; i++) {
    collectGarbage();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const after = process.memoryUsage();
  const grown = after.arrayBuffers - before.arrayBuffers;
  t.ok(grown < 4 * 1024 * 1024, `the server did not buffer the message (buffers grew ${Math.round(grown / 1024)} KiB)`);
  t.match(f.server.lines.find((l) => l.includes('disconnected: timeout')), /sequence="upr" delays="1"/, 'stuck at the first drain');
});
