// The LMTP listener (RFC 2033) through a socket: extensions, per-recipient replies after DATA,
// pipelining, quota, empty and oversized messages, shared files, 100 recipients. Each case
// starts the listener in-process on a free port with a real MariaDB and temporary maildirs.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { parseMaildirName } from '../../src/maildrop/name';
import { LmtpClient } from '../helpers/lmtp-client';
import { filesIn, lmtpFixture } from '../helpers/lmtp-server';
import { asServed, rfc822Size } from '../helpers/maildir';

const MESSAGE = 'From: sender@example.net\nSubject: lmtp\n\nhello\n.a line with a leading dot\nlast line\n';

async function client(t: Test, port: number): Promise<LmtpClient> {
  const { client: c, greeting } = await LmtpClient.connect(port);
  t.equal(greeting.code, 220, 'greeting');
  t.teardown(() => c.destroy());
  await c.lhlo();
  return c;
}

function only(maildir: string): { name: string; content: Buffer } {
  const [name, ...more] = filesIn(maildir);
  if (name === undefined || more.length > 0) throw new Error(`expected one file in ${maildir}/new, got ${filesIn(maildir).join(', ')}`);
  return { name, content: readFileSync(join(maildir, 'new', name)) };
}

const zSize = (name: string): number | undefined => parseMaildirName(name).size;

t.test('LHLO: SIZE, 8BITMIME, PIPELINING, ENHANCEDSTATUSCODES; no AUTH, STARTTLS, HELO', async (t) => {
  const f = await lmtpFixture(t, { lmtp: 'max_message_size = 1M' });
  const { client: c } = await LmtpClient.connect(f.port);
  t.teardown(() => c.destroy());
  t.equal((await c.cmd('HELO client.test')).code, 500, 'HELO is SMTP, not LMTP');
  const extensions = await c.lhlo();
  t.same(extensions.sort(), ['8BITMIME', 'ENHANCEDSTATUSCODES', 'PIPELINING', 'SIZE 1048576']);
  t.match((await c.cmd('AUTH PLAIN AGFAYg==')).code, /^5/, 'no AUTH');
  t.match((await c.cmd('STARTTLS')).code, /^5/, 'no STARTTLS');
  await c.quit();
});

// Both ways of the I/O policy (blocking_file_io; deliver/disk.ts) keep every property.
for (const blockingFileIo of [true, false]) {
  const mode = blockingFileIo ? 'blocking file calls' : 'blocking_file_io = no';
  t.test(`pipelined: a reply per RCPT, then one per accepted recipient (${mode})`, async (t) => {
    const f = await lmtpFixture(t, { blockingFileIo });
    const alice = await f.addUser('alice@example.com');
    await f.addUser('carol@example.com', '10');
    // A maildir that cannot be made: a file stands where its parent folder should be.
    writeFileSync(join(f.mail.path, 'blocker'), '');
    await f.db.addUser('dave@example.com', 'pw', join(f.mail.path, 'blocker', 'dave'));
    const c = await client(t, f.port);
    const r = await c.send('sender@example.net', ['alice@example.com', 'bob@example.com', 'carol@example.com', 'dave@example.com'], MESSAGE, true);
    t.equal(r.mail.code, 250);
    t.same(
      r.rcpt.map((x) => x.code),
      [250, 550, 250, 250],
    );
    t.match(r.rcpt[1]?.text, /^5\.1\.1 <bob@example\.com> unknown user$/);
    t.equal(r.data.code, 354);
    t.equal(r.results.length, 3, 'RFC 2033 §4.2: one reply per accepted recipient');
    t.match(r.results[0]?.text, /^2\.6\.0 <alice@example\.com> delivered as \S+$/);
    t.equal(r.results[1]?.code, 452);
    t.match(r.results[1]?.text, /^4\.2\.2 <carol@example\.com> mailbox is over quota/);
    t.equal(r.results[2]?.code, 451);
    t.match(r.results[2]?.text, /^4\.3\.0 <dave@example\.com> temporary failure/);
    t.notMatch(r.results[2]?.text, /proc|ENOTDIR|EACCES/, 'no internal detail reaches the client');

    const stored = only(alice);
    const expected = `Return-Path: <sender@example.net>\nDelivered-To: alice@example.com\n${MESSAGE}`;
    t.equal(stored.content.toString(), expected, 'stored with LF line ends, the dot line unstuffed, Return-Path and Delivered-To first');
    t.equal(zSize(stored.name), asServed(expected).length, 'the Z size is the size RETR serves');
    t.same(filesIn(join(f.mail.path, 'carol')), [], 'nothing in carol’s new/');
    t.same(filesIn(join(f.mail.path, 'carol'), 'tmp'), [], 'nor in her tmp/');
    t.same(filesIn(alice, 'tmp'), [], 'nothing left in tmp/');
    // The connection goes on: a second transaction.
    const again = await c.send('', ['alice@example.com'], 'Subject: second\n\nx\n');
    t.equal(again.results[0]?.code, 250);
    t.match(readFileSync(join(alice, 'new', filesIn(alice).find((n) => n !== stored.name) ?? '')).toString(), /^Return-Path: <>\n/, 'the null sender');
    await c.quit();
  });
}

t.test('a burst of 4,000 pipelined commands: every reply comes (replies past the socket’s 16 KiB high-water mark)', async (t) => {
  const f = await lmtpFixture(t);
  const alice = await f.addUser('alice@example.com');
  const c = await client(t, f.port);
  // More replies than the socket's high-water mark: smtp-server then waits for 'drain' before the
  // next command, which anything holding the socket corked would never let come.
  c.wire.send('RSET\r\n'.repeat(4000));
  let answered = 0;
  for (let i = 0; i < 4000; i++) if ((await c.reply(10_000)).code === 250) answered++;
  t.equal(answered, 4000);
  const r = await c.send('s@example.net', ['alice@example.com'], MESSAGE, true);
  t.equal(r.results[0]?.code, 250, 'the connection goes on');
  t.equal(filesIn(alice).length, 1);
});

t.test('over_quota = bounce: 552 5.2.2', async (t) => {
  const f = await lmtpFixture(t, { deliver: 'over_quota = bounce' });
  await f.addUser('carol@example.com', '10');
  const c = await client(t, f.port);
  const r = await c.send('s@example.net', ['carol@example.com'], MESSAGE);
  t.equal(r.results[0]?.code, 552);
  t.match(r.results[0]?.text, /^5\.2\.2 <carol@example\.com> mailbox is over quota$/);
});

t.test('an empty message: 554 5.6.0 for every recipient, nothing stored', async (t) => {
  const f = await lmtpFixture(t);
  const alice = await f.addUser('alice@example.com');
  const erin = await f.addUser('erin@example.com');
  const c = await client(t, f.port);
  const r = await c.send('s@example.net', ['alice@example.com', 'erin@example.com'], '');
  t.same(
    r.results.map((x) => x.text.slice(0, 9)),
    ['5.6.0 <al', '5.6.0 <er'],
  );
  t.same(
    r.results.map((x) => x.code),
    [554, 554],
  );
  t.same([...filesIn(alice), ...filesIn(alice, 'tmp'), ...filesIn(erin), ...filesIn(erin, 'tmp')], []);
});

t.test('identical bytes share one file; Delivered-To gives each recipient its own', async (t) => {
  for (const blockingFileIo of [true, false]) {
    const how = blockingFileIo ? '' : ', blocking_file_io = no: the same through the thread pool';
    await t.test(`delivered_to = no: one inode, linked into each new/${how}`, async (t) => {
      const f = await lmtpFixture(t, { lmtp: 'delivered_to = no', blockingFileIo });
      const alice = await f.addUser('alice@example.com');
      const erin = await f.addUser('erin@example.com');
      const c = await client(t, f.port);
      const r = await c.send('s@example.net', ['alice@example.com', 'erin@example.com'], MESSAGE);
      t.same(
        r.results.map((x) => x.code),
        [250, 250],
      );
      const a = only(alice);
      const e = only(erin);
      const sa = statSync(join(alice, 'new', a.name));
      t.equal(sa.ino, statSync(join(erin, 'new', e.name)).ino, 'the same file');
      t.equal(sa.nlink, 2, 'two links, the tmp file gone');
      t.equal(zSize(a.name), zSize(e.name));
      t.equal(a.content.toString(), `Return-Path: <s@example.net>\n${MESSAGE}`);
    });
  }
  await t.test('delivered_to = yes (default): a file each, each with its own Z size', async (t) => {
    const f = await lmtpFixture(t);
    const alice = await f.addUser('alice@example.com');
    const erin = await f.addUser('erin.longer.name@example.com');
    const c = await client(t, f.port);
    const r = await c.send('s@example.net', ['alice@example.com', 'erin.longer.name@example.com'], MESSAGE);
    t.same(
      r.results.map((x) => x.code),
      [250, 250],
    );
    const a = only(alice);
    const e = only(join(f.mail.path, 'erin.longer.name'));
    t.not(statSync(join(alice, 'new', a.name)).ino, statSync(join(erin, 'new', e.name)).ino);
    t.equal(e.content.toString(), `Return-Path: <s@example.net>\nDelivered-To: erin.longer.name@example.com\n${MESSAGE}`);
    t.equal(zSize(a.name), rfc822Size(a.content));
    t.equal(zSize(e.name), rfc822Size(e.content));
    t.not(zSize(a.name), zSize(e.name));
  });
});

t.test('100 recipients in one transaction', async (t) => {
  const f = await lmtpFixture(t, { lmtp: 'delivered_to = no' });
  const users = Array.from({ length: 100 }, (_, i) => `user${i}@example.com`);
  const dirs: string[] = [];
  for (const u of users) dirs.push(await f.addUser(u));
  const c = await client(t, f.port);
  const r = await c.send('s@example.net', users, MESSAGE, true);
  t.equal(r.rcpt.filter((x) => x.code === 250).length, 100);
  t.equal(r.results.length, 100);
  t.same(new Set(r.results.map((x) => x.code)), new Set([250]));
  t.same(
    r.results.map((x) => /<([^>]+)>/.exec(x.text)?.[1]),
    users,
    'in RCPT order',
  );
  const inodes = new Set(dirs.map((d) => statSync(join(d, 'new', only(d).name)).ino));
  t.equal(inodes.size, 1, 'one file, 100 links');
  t.same(dirs.flatMap((d) => filesIn(d, 'tmp')), []);
});

t.test('SIZE: refused at MAIL FROM, or after DATA with nothing stored', async (t) => {
  const f = await lmtpFixture(t, { lmtp: 'max_message_size = 1K' });
  const alice = await f.addUser('alice@example.com');
  const erin = await f.addUser('erin@example.com');
  const c = await client(t, f.port);
  const refused = await c.cmd('MAIL FROM:<s@example.net> SIZE=5000');
  t.equal(refused.code, 552);
  t.match(refused.text, /^5\.3\.4 /);
  const big = `Subject: big\n\n${'x'.repeat(100)}\n`.repeat(30);
  const r = await c.send('s@example.net', ['alice@example.com', 'erin@example.com'], big);
  t.same(
    r.results.map((x) => `${x.code} ${x.text.slice(0, 5)}`),
    ['552 5.3.4', '552 5.3.4'],
  );
  t.same([...filesIn(alice), ...filesIn(alice, 'tmp'), ...filesIn(erin), ...filesIn(erin, 'tmp')], []);
  t.equal((await c.send('s@example.net', ['alice@example.com'], 'Subject: small\n\nok\n')).results[0]?.code, 250, 'the session goes on');
});

t.test('a repeated RCPT is refused (452), so the replies after DATA stay one per accepted RCPT', async (t) => {
  const f = await lmtpFixture(t);
  const alice = await f.addUser('alice@example.com');
  const c = await client(t, f.port);
  const r = await c.send('s@example.net', ['alice@example.com', 'Alice@example.com'], MESSAGE, true);
  t.same(
    r.rcpt.map((x) => x.code),
    [250, 452],
  );
  t.equal(r.results.length, 1);
  t.equal(filesIn(alice).length, 1);
});

t.test('recipient_delimiter: user+ext reaches the user; Delivered-To keeps the address given', async (t) => {
  const f = await lmtpFixture(t, { deliver: 'recipient_delimiter = "+"' });
  const alice = await f.addUser('alice@example.com');
  const c = await client(t, f.port);
  const r = await c.send('s@example.net', ['alice+lists@example.com'], MESSAGE);
  t.equal(r.results[0]?.code, 250);
  t.match(only(alice).content.toString(), /^Return-Path: <s@example\.net>\nDelivered-To: alice\+lists@example\.com\n/);
});

t.test('the recipient database down: 451 4.3.0 at RCPT TO', async (t) => {
  const f = await lmtpFixture(t, {
    deliverDatabase: 'database "down" { host = "127.0.0.1"  port = 9  connect_timeout = 2  database = "x" }\naccounts_database = accounts',
    deliver: 'database = down',
  });
  const c = await client(t, f.port);
  await c.cmd('MAIL FROM:<s@example.net>');
  const r = await c.cmd('RCPT TO:<alice@example.com>');
  t.equal(r.code, 451);
  t.match(r.text, /^4\.3\.0 <alice@example\.com> temporary failure/);
  t.notMatch(r.text, /ECONNREFUSED|9/, 'no internal detail');
});

t.test('deliver { store_crlf = yes }: files keep CRLF, header lines too, and the Z size is the file size', async (t) => {
  for (const deliveredTo of ['yes', 'no']) {
    const f = await lmtpFixture(t, { deliver: 'store_crlf = yes', lmtp: `delivered_to = ${deliveredTo}` });
    const alice = await f.addUser('alice@example.com');
    const bob = await f.addUser('bob@example.com');
    const c = await client(t, f.port);
    const r = await c.send('sender@example.net', ['alice@example.com', 'bob@example.com'], MESSAGE);
    t.same(
      r.results.map((x) => x.code),
      [250, 250],
      `delivered_to = ${deliveredTo}`,
    );
    for (const [address, maildir] of [
      ['alice@example.com', alice],
      ['bob@example.com', bob],
    ] as const) {
      const stored = only(maildir);
      const headers = `Return-Path: <sender@example.net>\n${deliveredTo === 'yes' ? `Delivered-To: ${address}\n` : ''}`;
      t.equal(stored.content.toString(), asServed(headers + MESSAGE).toString(), `${address}: CRLF line ends, as RETR sends them`);
      t.equal(zSize(stored.name), stored.content.length, `${address}: Z size = file size`);
    }
    await c.quit();
  }
});
