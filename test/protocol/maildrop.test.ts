import t from 'tap';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { renameSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fixture } from '../helpers/fixture';
import { asServed, putMessage, sampleMessage } from '../helpers/maildir';

t.test('a second session on a locked maildrop gets [IN-USE] at once; QUIT and drops free the lock', async (t) => {
  const f = await fixture(t);
  const md = f.mail.maildir('alice');
  putMessage(md, sampleMessage(1));
  await f.db.addUser('alice', 'pw', md);
  const first = await f.loggedIn('alice', 'pw');
  const second = await f.client();
  t.same(await second.login('alice', 'pw'), { ok: false, text: '[IN-USE] maildrop is locked by another session' });
  t.same(await second.cmd('STAT'), { ok: false, text: 'STAT is not valid in this state' }, 'still in AUTHORIZATION');
  await first.cmd('QUIT');
  await first.waitClosed();
  t.ok((await second.login('alice', 'pw')).ok, 'free after QUIT');
  second.destroy();
  await f.server.waitForLine(/disconnected: peer closed, sequence="upsup" delays="0"/);
  const third = await f.loggedIn('alice', 'pw');
  t.ok((await third.cmd('STAT')).ok, 'free after a dropped connection');
});

t.test('a lock left by a crashed process does not block the maildrop', async (t) => {
  const f = await fixture(t);
  const md = f.mail.maildir('alice');
  putMessage(md, sampleMessage(1));
  await f.db.addUser('alice', 'pw', md);
  const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  const pid = Number(dead.stdout.trim());
  writeFileSync(join(md, '.r2d2.lock'), `${pid} 12345 1 ${hostname()} deadbeef\n`);
  const c = await f.client();
  t.ok((await c.login('alice', 'pw')).ok, 'stale lock broken');
  const content = readFileSync(join(md, '.r2d2.lock'), 'utf8');
  t.match(content, new RegExp(`^${process.pid} `), 'the lock is now ours');
  await c.cmd('QUIT');
  await c.waitClosed();
  t.notOk(existsSync(join(md, '.r2d2.lock')), 'released');
});

t.test('mail delivered during a session appears in the next one', async (t) => {
  const f = await fixture(t);
  const md = f.mail.maildir('alice');
  putMessage(md, sampleMessage(1));
  await f.db.addUser('alice', 'pw', md);
  const c = await f.loggedIn('alice', 'pw');
  const s1 = await c.cmd('STAT');
  putMessage(md, sampleMessage(2));
  t.same(await c.cmd('STAT'), s1, 'the snapshot does not change');
  t.same(await c.cmd('LIST 2'), { ok: false, text: 'no such message' });
  await c.cmd('QUIT');
  const next = await f.loggedIn('alice', 'pw');
  t.match((await next.cmd('STAT')).text, /^2 /);
});

t.test('a message removed by another program mid-session gets -ERR; the session goes on', async (t) => {
  const f = await fixture(t);
  const md = f.mail.maildir('alice');
  const gone = putMessage(md, sampleMessage(1));
  putMessage(md, sampleMessage(2));
  await f.db.addUser('alice', 'pw', md);
  const c = await f.loggedIn('alice', 'pw');
  rmSync(join(md, 'new', gone));
  t.same(await c.cmd('RETR 1'), { ok: false, text: 'message was removed from the maildrop' });
  t.same(await c.cmd('TOP 1 0'), { ok: false, text: 'message was removed from the maildrop' });
  const r2 = await c.cmd('RETR 2');
  t.equal(r2.body?.toString(), asServed(sampleMessage(2)).toString());
  await c.cmd('DELE 1');
  t.same(await c.cmd('QUIT'), { ok: true, text: 'r2d2 signing off (1 message deleted)' }, 'an already-gone message counts as deleted');
});

t.test('names without a Z size are sized from the file, never guessed', async (t) => {
  const f = await fixture(t);
  const md = f.mail.maildir('alice');
  const body = 'Subject: foreign\n\nbare LF body\r\nand CRLF\n';
  writeFileSync(join(md, 'cur', '1764200000.M1P2.dovecot-host,S=40,W=43:2,S'), body);
  const named = putMessage(md, sampleMessage(2));
  renameSync(join(md, 'new', named), join(md, 'new', named)); // untouched Z name beside it
  await f.db.addUser('alice', 'pw', md);
  const c = await f.loggedIn('alice', 'pw');
  const expected = asServed(body);
  t.same(await c.cmd('LIST 1'), { ok: true, text: `1 ${expected.length}` });
  t.equal((await c.cmd('RETR 1')).body?.toString(), expected.toString());
  await f.server.waitForLine(/names without a Z size/);
});

t.test('tmp/ and dot files are not messages', async (t) => {
  const f = await fixture(t);
  const md = f.mail.maildir('alice');
  writeFileSync(join(md, 'tmp', '1764200000.M1P1Q1Z10.host'), 'half-written');
  writeFileSync(join(md, 'cur', '.hidden'), 'x');
  putMessage(md, sampleMessage(1));
  await f.db.addUser('alice', 'pw', md);
  const c = await f.loggedIn('alice', 'pw');
  t.match((await c.cmd('STAT')).text, /^1 /);
});

t.test('a file larger than its name says is served only up to the size announced, and logged', async (t) => {
  const f = await fixture(t);
  const md = f.mail.maildir('alice');
  const body = 'Subject: liar\n\n' + 'x'.repeat(500) + '\n';
  writeFileSync(join(md, 'new', '1764200000.M000001P1Q1Z10.host'), body); // claims 16 octets
  await f.db.addUser('alice', 'pw', md);
  const c = await f.loggedIn('alice', 'pw');
  t.same(await c.cmd('LIST 1'), { ok: true, text: '1 16' }, 'LIST trusts the name');
  // A size in a name is a claim: never more file octets than LIST announced (issue 12, Low).
  t.equal((await c.cmd('RETR 1')).body?.toString(), asServed(body.slice(0, 16)).toString(), 'RETR sends the 16 octets announced');
  await f.server.waitForLine(/message larger than its name says: sent up to the announced size file="new\/1764200000.M000001P1Q1Z10.host" announced="16" onDisk="516"/);
  t.ok((await c.cmd('NOOP')).ok, 'the session goes on');
});

t.test('with sync_read_max = 0 every message is streamed, byte-exact', async (t) => {
  const f = await fixture(t, { extra: 'sync_read_max = 0' });
  const md = f.mail.maildir('alice');
  const bodies = [sampleMessage(1), 'Subject: dots\n\n.\n..x\nno newline'];
  for (const b of bodies) putMessage(md, b);
  await f.db.addUser('alice', 'pw', md);
  const c = await f.loggedIn('alice', 'pw');
  for (let i = 0; i < bodies.length; i++) {
    t.equal((await c.cmd(`RETR ${i + 1}`)).body?.toString(), asServed(bodies[i] ?? '').toString());
  }
  t.equal((await c.cmd('TOP 2 1')).body?.toString(), 'Subject: dots\r\n\r\n.\r\n', 'a lone dot line comes back as one line');
});

t.test('blocking_file_io = no (network storage): locks, scans and messages go through the thread pool alike', async (t) => {
  const f = await fixture(t, { extra: 'blocking_file_io = no' });
  t.equal(f.server.config.syncReadMax, 0, 'no blocking message reads either');
  const md = f.mail.maildir('alice');
  const bodies = [sampleMessage(1), sampleMessage(2)];
  for (const b of bodies) putMessage(md, b);
  await f.db.addUser('alice', 'pw', md);
  const first = await f.loggedIn('alice', 'pw');
  const second = await f.client();
  t.same(await second.login('alice', 'pw'), { ok: false, text: '[IN-USE] maildrop is locked by another session' });
  t.equal((await first.cmd('RETR 2')).body?.toString(), asServed(bodies[1] ?? '').toString());
  await first.cmd('DELE 1');
  t.same(await first.cmd('QUIT'), { ok: true, text: 'r2d2 signing off (1 message deleted)' });
  await first.waitClosed();
  t.ok((await second.login('alice', 'pw')).ok, 'the lock was released');
  t.match((await second.cmd('STAT')).text, /^1 /);
});
