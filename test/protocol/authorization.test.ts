import t from 'tap';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fixture } from '../helpers/fixture';
import { putMessage, sampleMessage } from '../helpers/maildir';

t.test('greeting, CAPA in both states', async (t) => {
  const f = await fixture(t);
  const md = f.mail.maildir('alice');
  await f.db.addUser('alice@example.com', 'secret', md);
  const c = await f.client();
  const capa = await c.cmd('CAPA');
  t.ok(capa.ok);
  t.same(capa.lines?.slice(0, 7), ['TOP', 'USER', 'SASL PLAIN LOGIN', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING']);
  t.match(capa.lines?.[7], /^IMPLEMENTATION r2d2/);
  t.ok((await c.login('alice@example.com', 'secret')).ok);
  const after = await c.cmd('CAPA');
  t.notOk(after.lines?.includes('USER'), 'USER is not offered after login');
  t.notOk(after.lines?.includes('SASL PLAIN LOGIN'), 'nor SASL');
  t.ok(after.lines?.includes('UIDL'));
});

t.test('login answers with the maildrop size; wrong password and unknown user get the same [AUTH] text', async (t) => {
  const f = await fixture(t);
  const md = f.mail.maildir('alice');
  putMessage(md, sampleMessage(1));
  putMessage(md, sampleMessage(2), 'cur', 'S');
  await f.db.addUser('alice@example.com', 'secret', md);
  const c = await f.client();
  t.same(await c.cmd('USER nobody@example.com'), { ok: true, text: 'send PASS' }, 'USER does not reveal whether the user exists');
  const unknown = await c.cmd('PASS secret');
  const wrong = await c.login('alice@example.com', 'not-the-password');
  t.same(unknown, { ok: false, text: '[AUTH] Authentication failed' });
  t.same(wrong, unknown);
  const good = await c.login('alice@example.com', 'secret');
  t.ok(good.ok);
  t.match(good.text, /has 2 messages \(\d+ octets\)/);
  t.same(await c.cmd('USER again'), { ok: false, text: 'USER is not valid in this state' });
});

t.test('an inactive account cannot log in', async (t) => {
  const f = await fixture(t);
  await f.db.addUser('old@example.com', 'pw', f.mail.maildir('old'), false);
  const c = await f.client();
  t.same(await c.login('old@example.com', 'pw'), { ok: false, text: '[AUTH] Authentication failed' });
});

t.test('SQL injection in the login and password is harmless', async (t) => {
  const f = await fixture(t);
  await f.db.addUser('alice@example.com', 'secret', f.mail.maildir('alice'));
  const c = await f.client();
  for (const [user, pass] of [
    ["x' OR '1'='1", "x' OR '1'='1"],
    ["alice@example.com' -- ", 'anything'],
    ['alice@example.com', "' OR 1=1 -- "],
    ['alice@example.com"; DROP TABLE mailbox; --', 'x'],
    ["' UNION SELECT '/etc' -- ", 'x'],
  ] as const) {
    t.same(await c.login(user, pass), { ok: false, text: '[AUTH] Authentication failed' }, `${user} / ${pass}`);
  }
  const rows = (await f.db.query(`SELECT COUNT(*) AS n FROM \`${f.db.name}\`.mailbox`)) as Array<{ n: number }>;
  t.equal(Number(rows[0]?.n), 1, 'table intact');
  t.ok((await c.login('alice@example.com', 'secret')).ok, 'the real login still works');
});

t.test('the query also works written printf-style with quoted substitutions', async (t) => {
  const f = await fixture(t, { query: "SELECT maildir FROM mailbox WHERE username = '%u' AND password = SHA2('%p', 256)" });
  await f.db.addUser('bob', "it's", f.mail.maildir('bob'));
  const c = await f.client();
  t.same(await c.login("bob' OR ''='", 'x'), { ok: false, text: '[AUTH] Authentication failed' });
  t.ok((await c.login('bob', "it's")).ok);
});

t.test('more than one row, or a path (absolute or relative) outside maildir_root is refused and logged', async (t) => {
  const f = await fixture(t, { query: 'SELECT maildir FROM mailbox WHERE username LIKE %u AND password = SHA2(%p, 256)' });
  await f.db.addUser('dup1', 'pw', f.mail.maildir('dup1'));
  await f.db.addUser('dup2', 'pw', f.mail.maildir('dup2'));
  await f.db.addUser('relative', 'pw', '../elsewhere/relative');
  await f.db.addUser('escape', 'pw', join(f.mail.path, '..', 'elsewhere'));
  const c = await f.client();
  t.same(await c.login('dup%', 'pw'), { ok: false, text: '[SYS/PERM] maildrop not available' });
  t.same(await c.login('relative', 'pw'), { ok: false, text: '[SYS/PERM] maildrop not available' });
  t.same(await c.login('escape', 'pw'), { ok: false, text: '[SYS/PERM] maildrop not available' });
  await f.server.waitForLine(/login refused: query returned 2 rows/);
  await f.server.waitForLine(/login refused: maildir path is outside maildir_root user="relative"/);
  await f.server.waitForLine(/login refused: maildir path is outside maildir_root user="escape"/);
});

t.test('a missing maildir answers [SYS/TEMP] at PASS and frees the lock path', async (t) => {
  const f = await fixture(t);
  const md = join(f.mail.path, 'ghost');
  await f.db.addUser('ghost', 'pw', md);
  const c = await f.client();
  const r = await c.login('ghost', 'pw');
  t.same(r, { ok: false, text: '[SYS/TEMP] maildrop cannot be opened now' });
  t.notOk(existsSync(md), 'nothing created');
  t.ok((await c.cmd('CAPA')).ok, 'session goes on');
});

t.test('PASS before USER, NOOP before login, and QUIT in AUTHORIZATION', async (t) => {
  const f = await fixture(t);
  const md = f.mail.maildir('alice');
  const name = putMessage(md, sampleMessage(1));
  await f.db.addUser('alice', 'pw', md);
  const c = await f.client();
  t.same(await c.cmd('PASS pw'), { ok: false, text: 'send USER first' });
  t.same(await c.cmd('NOOP'), { ok: false, text: 'NOOP is not valid in this state' });
  t.same(await c.cmd('STAT'), { ok: false, text: 'STAT is not valid in this state' });
  t.same(await c.cmd('QUIT'), { ok: true, text: 'r2d2 signing off' });
  await c.waitClosed();
  t.same(readdirSync(join(md, 'new')), [name], 'maildrop untouched');
  await f.server.waitForLine(/\[\d+\] disconnected: peer quit, sequence="pnsq" delays="0"/);
});

t.test('bad input gets -ERR and the session goes on; too many bad commands drop the client', async (t) => {
  const f = await fixture(t, { maxBadCommands: 5 });
  const c = await f.client();
  t.same(await c.cmd(''), { ok: false, text: 'empty command' });
  t.same(await c.cmd('X'.repeat(300)), { ok: false, text: 'command line too long' });
  c.send(Buffer.from([0x00, 0xff, 0x13, 0x10, 0x0d, 0x0a]));
  t.same(await c.readStatus(), { ok: false, text: 'invalid characters in command' });
  t.same(await c.cmd('HELO there'), { ok: false, text: 'unknown command' });
  t.ok((await c.cmd('CAPA')).ok, 'still serving; a good command resets the count');
  for (const line of ['A', 'B', 'C', 'NOOP']) t.notOk((await c.cmd(line)).ok, line);
  t.same(await c.cmd('FOO'), { ok: false, text: 'too many bad commands, closing' });
  await c.waitClosed();
  await f.server.waitForLine(/disconnected: too many bad commands, sequence="!4c!3n!" delays="0"/);
});
