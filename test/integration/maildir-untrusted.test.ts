// Issue 12, High 2 and 3 (and Low): files in a maildir are untrusted input. Through a real server
// (real MariaDB, real socket; as root here, as `executes_as_root` runs): FIFOs never freeze a
// thread, symlinks -- a message, cur/, new/ -- are never followed, a lying size sends no more than
// it announced, and without maildir_root a row naming a directory that is no maildir is refused.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture } from '../helpers/fixture';
import { putNumbered } from '../helpers/client-matrix';
import { asServed, sampleMessage } from '../helpers/maildir';

const fifo = (path: string): void => void execFileSync('mkfifo', [path]);

t.test('FIFOs: RETR of one with a Z size and the login of one without answer at once; other sessions go on', async (t) => {
  const f = await fixture(t);
  const a = f.mail.maildir('fifo-z');
  putNumbered(a, Buffer.from(sampleMessage(1)), 0);
  fifo(join(a, 'new', '1800000000.M1P1Q1Z20.host'));
  const b = f.mail.maildir('fifo-noz');
  for (let i = 0; i < 6; i++) fifo(join(b, 'new', `18000000${i}0.M${i}P1Q1.host`));
  putNumbered(b, Buffer.from(sampleMessage(2)), 1);
  await f.db.addUser('fifo-z', 'pw', a);
  await f.db.addUser('fifo-noz', 'pw', b);
  const c = await f.loggedIn('fifo-z', 'pw');
  t.same(await c.cmd('RETR 2'), { ok: false, text: '[SYS/TEMP] message cannot be read now' }, 'a FIFO is not read');
  await f.server.waitForLine(/message cannot be read file="new\/1800000000.M1P1Q1Z20.host" code="ENOTREG"/);
  t.ok((await c.cmd('RETR 1')).ok, 'the session goes on');
  // Four logins at once on FIFOs without a size: sizing them used to hang libuv's whole pool.
  const logins = await Promise.all([0, 1, 2, 3].map(async () => (await f.client()).login('fifo-noz', 'pw')));
  t.equal(logins.filter((r) => r.ok).length, 1, 'one login holds the maildrop');
  t.ok(logins.every((r) => r.ok || r.text.startsWith('[IN-USE]')), 'the others are told it is in use, none hangs');
  const other = await f.loggedIn('fifo-z', 'pw').catch(() => undefined);
  t.equal(other, undefined, 'the first session still holds fifo-z');
  t.ok((await c.cmd('STAT')).ok, 'and it still answers');
});

t.test('symlinks are never followed: a message, cur/ and new/; nothing outside is served or unlinked', async (t) => {
  const f = await fixture(t);
  const outside = join(f.mail.path, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'shadow'), 'root:secret-hash:19000::::::\n');
  const victim = f.mail.maildir('victim');
  const theirs = putNumbered(victim, Buffer.from(sampleMessage(7)), 0);

  const msg = f.mail.maildir('msglink');
  putNumbered(msg, Buffer.from(sampleMessage(1)), 0);
  symlinkSync(join(outside, 'shadow'), join(msg, 'new', '1800000001.M1P1Q1Z1D.host'));
  symlinkSync('/dev/zero', join(msg, 'new', '1800000002.M1P1Q1Z10000.host'));
  await f.db.addUser('msglink', 'pw', msg);
  const c = await f.loggedIn('msglink', 'pw');
  t.same(await c.cmd('RETR 2'), { ok: false, text: '[SYS/TEMP] message cannot be read now' }, 'a message symlinked to a secret');
  t.same(await c.cmd('RETR 3'), { ok: false, text: '[SYS/TEMP] message cannot be read now' }, 'a message symlinked to /dev/zero');
  t.ok((await c.cmd('DELE 2')).ok);
  await c.cmd('QUIT');
  t.equal(readFileSync(join(outside, 'shadow'), 'utf8'), 'root:secret-hash:19000::::::\n', 'the target is untouched');

  for (const folder of ['cur', 'new'] as const) {
    const md = f.mail.maildir(`${folder}link`);
    renameSync(join(md, folder), join(md, `${folder}.gone`));
    symlinkSync(join(victim, 'new'), join(md, folder));
    await f.db.addUser(`${folder}link`, 'pw', md);
    const s = await f.client();
    t.same(await s.login(`${folder}link`, 'pw'), { ok: false, text: '[SYS/PERM] maildrop not available' }, `${folder}/ linked to another user's new/`);
    await f.server.waitForLine(new RegExp(`login refused: ${folder}/ is a symbolic link`));
  }
  t.same(readdirSync(join(victim, 'new')), [theirs], "the other user's mail is untouched");
});

t.test('a file larger than LIST said, or growing, sends no more than announced', async (t) => {
  const f = await fixture(t);
  const md = f.mail.maildir('liar');
  writeFileSync(join(md, 'new', '1800000000.M1P1Q1Z1.host'), 'x'.repeat(200_000)); // Z1 on 200 KB
  await f.db.addUser('liar', 'pw', md);
  const c = await f.loggedIn('liar', 'pw');
  t.same(await c.cmd('LIST 1'), { ok: true, text: '1 1' });
  const r = await c.cmd('RETR 1');
  t.equal(r.body?.toString(), asServed('x').toString(), 'one octet announced, one sent (and the line end the protocol needs)');
  await f.server.waitForLine(/message larger than its name says: sent up to the announced size .*announced="1" onDisk="200000"/);
});

t.test('without maildir_root a row naming a directory that is no maildir is refused, and nothing is created there', async (t) => {
  const f = await fixture(t, { maildirRoot: undefined as unknown as string });
  const notMaildir = join(f.mail.path, 'etc-like');
  mkdirSync(join(notMaildir, 'ssh'), { recursive: true });
  await f.db.addUser('etc', 'pw', join(notMaildir, 'ssh', '..'));
  const c = await f.client();
  t.same(await c.login('etc', 'pw'), { ok: false, text: '[SYS/PERM] maildrop not available' });
  await f.server.waitForLine(/login refused: not a maildir \(no new\/ and no cur\/\)/);
  t.notOk(existsSync(join(notMaildir, '.r2d2.lock')), 'no lock file made there');
});
