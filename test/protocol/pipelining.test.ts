import t from 'tap';
import { fixture } from '../helpers/fixture';
import { asServed, putMessage, sampleMessage } from '../helpers/maildir';

t.test('pipelined commands in one write are answered in order, one at a time', async (t) => {
  const f = await fixture(t);
  const md = f.mail.maildir('alice');
  const big = 'Subject: big\n\n' + 'x'.repeat(70).concat('\n').repeat(40000);
  putMessage(md, big);
  putMessage(md, sampleMessage(2));
  await f.db.addUser('alice', 'pw', md);
  const c = await f.client();
  c.send('USER alice\r\nPASS pw\r\nRETR 1\r\nLIST\r\nRETR 2\r\nUIDL 1\r\nBOGUS\r\nQUIT\r\n');
  t.ok((await c.readStatus()).ok);
  t.ok((await c.readStatus()).ok);
  const r1 = await c.readReply(true);
  t.equal(r1.body?.length, asServed(big).length, 'the whole big message before anything else');
  const list = await c.readReply(true);
  t.equal(list.lines?.length, 2);
  const r2 = await c.readReply(true);
  t.equal(r2.body?.toString(), asServed(sampleMessage(2)).toString());
  t.match((await c.readStatus()).text, /^1 /);
  t.same(await c.readStatus(), { ok: false, text: 'unknown command' });
  t.ok((await c.readStatus()).ok, 'QUIT');
  await c.waitClosed();
  await f.server.waitForLine(/disconnected: peer quit, sequence="uprLri!q"/);
});

t.test('a client that does not read: the server waits for drain and counts the delays', async (t) => {
  const f = await fixture(t);
  const md = f.mail.maildir('alice');
  const big = 'Subject: big\n\n' + 'y'.repeat(998).concat('\n').repeat(4000);
  putMessage(md, big);
  await f.db.addUser('alice', 'pw', md);
  const c = await f.loggedIn('alice', 'pw');
  c.socket.pause();
  c.send('RETR 1\r\nRETR 1\r\nQUIT\r\n');
  await new Promise((resolve) => setTimeout(resolve, 300));
  c.socket.resume();
  const first = await c.readReply(true);
  const second = await c.readReply(true);
  t.equal(first.body?.length, asServed(big).length);
  t.equal(second.body?.length, asServed(big).length);
  t.ok((await c.readStatus()).ok);
  const line = await f.server.waitForLine(/disconnected: peer quit/);
  const delays = Number(/delays="(\d+)"/.exec(line)?.[1]);
  t.ok(delays > 0, `delays counted (${delays})`);
});

t.test('commands pipelined before a half-close are still answered, and QUIT still applies', async (t) => {
  const f = await fixture(t);
  const md = f.mail.maildir('alice');
  putMessage(md, sampleMessage(1));
  putMessage(md, sampleMessage(2));
  await f.db.addUser('alice', 'pw', md);
  const c = await f.client();
  c.socket.end('USER alice\r\nPASS pw\r\nDELE 1\r\nQUIT\r\n');
  const all = await c.readToClose();
  t.match(all, /\+OK r2d2 signing off \(1 message deleted\)\r\n$/);
  const again = await f.loggedIn('alice', 'pw');
  t.match((await again.cmd('STAT')).text, /^1 /);
});
