import t from 'tap';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fixture } from '../helpers/fixture';
import { asServed, putMessage, rfc822Size, sampleMessage } from '../helpers/maildir';
import { parseMaildirName } from '../../src/maildrop/name';

const files = (md: string) => [...readdirSync(join(md, 'new')), ...readdirSync(join(md, 'cur'))].sort();

async function threeMessages(t: Parameters<typeof fixture>[0]) {
  const f = await fixture(t);
  const md = f.mail.maildir('alice');
  const bodies = [sampleMessage(1), 'Subject: dots\n\n.\n..leading dot\nno final newline', sampleMessage(3, 20)];
  const names = bodies.map((b, i) => putMessage(md, b, i === 1 ? 'cur' : 'new', 'S'));
  await f.db.addUser('alice', 'pw', md);
  return { f, md, bodies, names };
}

t.test('STAT, LIST and UIDL come from the names; numbers stay after DELE; RSET restores', async (t) => {
  const { f, bodies, names } = await threeMessages(t);
  const sizes = bodies.map((b) => rfc822Size(Buffer.from(b)));
  const total = sizes.reduce((a, b) => a + b, 0);
  const c = await f.loggedIn('alice', 'pw');
  t.same(await c.cmd('STAT'), { ok: true, text: `3 ${total}` });
  const list = await c.cmd('LIST');
  t.same(list.lines, sizes.map((s, i) => `${i + 1} ${s}`));
  t.equal(list.text, `3 messages (${total} octets)`);
  const uidl = await c.cmd('UIDL');
  const uids = names.map((n) => parseMaildirName(n).uidl);
  t.same(uidl.lines, uids.map((u, i) => `${i + 1} ${u}`));
  t.equal(new Set(uids).size, 3, 'unique ids differ');
  t.same(await c.cmd('LIST 2'), { ok: true, text: `2 ${sizes[1]}` });
  t.same(await c.cmd('UIDL 3'), { ok: true, text: `3 ${uids[2]}` });

  t.same(await c.cmd('DELE 2'), { ok: true, text: 'message 2 deleted' });
  t.same(await c.cmd('DELE 2'), { ok: false, text: 'message already deleted' });
  t.same(await c.cmd('STAT'), { ok: true, text: `2 ${total - (sizes[1] ?? 0)}` });
  t.same((await c.cmd('LIST')).lines, [`1 ${sizes[0]}`, `3 ${sizes[2]}`], 'numbers do not shift');
  t.same((await c.cmd('UIDL')).lines, [`1 ${uids[0]}`, `3 ${uids[2]}`]);
  for (const cmd of ['LIST 2', 'UIDL 2', 'RETR 2', 'TOP 2 0']) {
    t.same(await c.cmd(cmd), { ok: false, text: 'message already deleted' }, cmd);
  }
  t.same(await c.cmd('RSET'), { ok: true, text: `maildrop has 3 messages (${total} octets)` });
  t.same(await c.cmd('STAT'), { ok: true, text: `3 ${total}` });
});

t.test('out-of-range, zero, negative and non-numeric message numbers', async (t) => {
  const { f } = await threeMessages(t);
  const c = await f.loggedIn('alice', 'pw');
  for (const cmd of ['LIST 4', 'RETR 99', 'DELE 4', 'UIDL 4', 'TOP 4 1']) {
    t.same(await c.cmd(cmd), { ok: false, text: 'no such message' }, cmd);
  }
  for (const cmd of ['LIST 0', 'RETR -1', 'DELE one', 'UIDL 1x', 'RETR', 'TOP 1', 'TOP 1 x', 'TOP x 1', 'RETR 01']) {
    const r = await c.cmd(cmd);
    t.notOk(r.ok, cmd);
    t.ok((await c.cmd('NOOP')).ok, 'a good command between bad ones resets the count');
  }
  t.same(await c.cmd('STAT 1'), { ok: false, text: 'too many arguments' });
  t.ok((await c.cmd('NOOP')).ok, 'session goes on');
});

t.test('RETR and TOP are byte-exact: CRLF, dot-stuffing, missing final newline', async (t) => {
  const { f, bodies } = await threeMessages(t);
  const c = await f.loggedIn('alice', 'pw');
  for (let i = 0; i < 3; i++) {
    const r = await c.cmd(`RETR ${i + 1}`);
    const expected = asServed(bodies[i] ?? '');
    t.equal(r.text, `${expected.length} octets`);
    t.equal(r.body?.toString('latin1'), expected.toString('latin1'), `message ${i + 1}`);
  }
  const top0 = await c.cmd('TOP 1 0');
  t.equal(top0.body?.toString(), 'From: sender1@example.com\r\nTo: user@example.com\r\nSubject: message 1\r\nMessage-ID: <m1@example.com>\r\n\r\n');
  const top2 = await c.cmd('TOP 3 2');
  t.match(top2.body?.toString(), /\r\n\r\nline 1 of message 3\r\nline 2 of message 3\r\n$/);
  const dots = await c.cmd('TOP 2 1');
  t.equal(dots.body?.toString(), 'Subject: dots\r\n\r\n.\r\n', 'a lone dot line comes back as one line');
});

t.test('QUIT applies exactly the deletions; a dropped connection applies none', async (t) => {
  const { f, md, names } = await threeMessages(t);
  const dropped = await f.loggedIn('alice', 'pw');
  await dropped.cmd('DELE 1');
  await dropped.cmd('DELE 3');
  dropped.destroy();
  await f.server.waitForLine(/disconnected: peer closed, sequence="upd2" delays="0"/);
  t.same(files(md), [...names].sort(), 'nothing deleted after a drop');

  const quits = await f.loggedIn('alice', 'pw');
  await quits.cmd('DELE 1');
  await quits.cmd('DELE 3');
  t.same(await quits.cmd('QUIT'), { ok: true, text: 'r2d2 signing off (2 messages deleted)' });
  await quits.waitClosed();
  t.same(files(md), [names[1]], 'only the two deleted messages are gone');

  const again = await f.loggedIn('alice', 'pw');
  t.same(await again.cmd('STAT'), { ok: true, text: `1 ${rfc822Size(Buffer.from('Subject: dots\n\n.\n..leading dot\nno final newline'))}` });
});

t.test('the USER PASS STAT UIDL RETR*4 DELE*4 QUIT session logs sequence upsUr4d4q', async (t) => {
  const f = await fixture(t);
  const md = f.mail.maildir('carol');
  for (let i = 0; i < 4; i++) putMessage(md, sampleMessage(i));
  await f.db.addUser('carol', 'pw', md);
  const c = await f.loggedIn('carol', 'pw');
  await c.cmd('STAT');
  await c.cmd('UIDL');
  for (let i = 1; i <= 4; i++) await c.cmd(`RETR ${i}`);
  for (let i = 1; i <= 4; i++) await c.cmd(`DELE ${i}`);
  t.same(await c.cmd('QUIT'), { ok: true, text: 'r2d2 signing off (4 messages deleted)' });
  const line = await f.server.waitForLine(/disconnected:/);
  t.match(line, /^server\.pop3\.r2d2\[4242\]: \[\d+\] disconnected: peer quit, sequence="upsUr4d4q" delays="0"$/);
  t.same(files(md), []);
});
