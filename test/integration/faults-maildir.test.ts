// Maildir faults under a running server (as any user; the tricks need no permissions): a
// message file that is a directory (unreadable), a file that vanished, cur/ replaced by a file
// (at login and mid-session), new/ replaced by a file before UPDATE. Each gets a clean -ERR
// with a response code where the client can act on it, one clear log line, and the session
// and the server go on. Nothing that was not deleted by a QUIT is lost.
import t from 'tap';
import { mkdirSync, readdirSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture, type Fixture } from '../helpers/fixture';
import { putNumbered } from '../helpers/client-matrix';
import { asServed, sampleMessage } from '../helpers/maildir';

async function user(f: Fixture, name: string, count: number, sub: 'new' | 'cur' = 'new'): Promise<{ md: string; files: string[] }> {
  const md = f.mail.maildir(name);
  const files: string[] = [];
  for (let i = 1; i <= count; i++) files.push(putNumbered(md, Buffer.from(sampleMessage(i)), i - 1, sub));
  await f.db.addUser(name, 'pw', md);
  return { md, files };
}

const inDir = (md: string, sub: string): string[] => {
  try {
    return readdirSync(join(md, sub));
  } catch {
    return [];
  }
};

t.test('a message file that cannot be read (a directory): -ERR [SYS/TEMP], logged, the session goes on', async (t) => {
  const f = await fixture(t);
  const { md, files } = await user(f, 'unreadable', 3);
  // A large one too (over sync_read_max, 128 KiB): it is streamed, not read in one call.
  files.push(putNumbered(md, Buffer.from(sampleMessage(4, 8000)), 3));
  const c = await f.loggedIn('unreadable', 'pw');
  for (const i of [1, 3]) {
    const victim = join(md, 'new', files[i] ?? '');
    unlinkSync(victim);
    mkdirSync(victim);
  }
  t.same(await c.cmd('RETR 2'), { ok: false, text: '[SYS/TEMP] message cannot be read now' }, 'small message');
  t.same(await c.cmd('TOP 2 0'), { ok: false, text: '[SYS/TEMP] message cannot be read now' }, 'TOP too');
  t.same(await c.cmd('RETR 4'), { ok: false, text: '[SYS/TEMP] message cannot be read now' }, 'large (streamed) message');
  await f.server.waitForLine(/\[1\] message cannot be read .*code="EISDIR"/);
  const retr = await c.cmd('RETR 3');
  t.equal(retr.body?.toString('latin1'), asServed(sampleMessage(3)).toString('latin1'), 'the next RETR is whole');
  t.ok((await c.cmd('DELE 2')).ok);
  const quit = await c.cmd('QUIT');
  t.same(quit, { ok: false, text: '[SYS/TEMP] some deleted messages not removed (1 of 1)' }, 'QUIT says the truth: a directory cannot be unlinked');
  await f.server.waitForLine(/\[1\] update done user="unreadable" deleted="0" failed="1"/);
  t.equal(inDir(md, 'new').length, 4, 'nothing else removed');
  for (const i of [1, 3]) rmSync(join(md, 'new', files[i] ?? ''), { recursive: true });
  const again = await f.loggedIn('unreadable', 'pw');
  t.match((await again.cmd('STAT')).text, /^2 /, 'the maildrop is not left locked');
});

t.test('a message that vanished mid-session: RETR says so, DELE+QUIT counts it gone', async (t) => {
  const f = await fixture(t);
  const { md, files } = await user(f, 'vanish', 3);
  files.push(putNumbered(md, Buffer.from(sampleMessage(4, 8000)), 3));
  const c = await f.loggedIn('vanish', 'pw');
  unlinkSync(join(md, 'new', files[0] ?? ''));
  t.same(await c.cmd('RETR 1'), { ok: false, text: 'message was removed from the maildrop' });
  await f.server.waitForLine(/\[1\] message cannot be read .*code="ENOENT"/);
  unlinkSync(join(md, 'new', files[3] ?? ''));
  t.same(await c.cmd('RETR 4'), { ok: false, text: 'message was removed from the maildrop' }, 'a large one too');
  t.same(await c.cmd('LIST 1'), { ok: true, text: `1 ${asServed(sampleMessage(1)).length}` }, 'numbers do not shift');
  t.ok((await c.cmd('RETR 2')).ok, 'the session goes on');
  t.ok((await c.cmd('DELE 1')).ok);
  t.same(await c.cmd('QUIT'), { ok: true, text: 'r2d2 signing off (1 message deleted)' });
  t.equal(inDir(md, 'new').length, 2, 'the two others are still there');
});

t.test('cur/ replaced by a file: at login -ERR [SYS/TEMP]; mid-session the session keeps the cur/ it opened', async (t) => {
  const f = await fixture(t);
  const { md } = await user(f, 'curfile', 2, 'cur');
  const cur = join(md, 'cur');
  renameSync(cur, join(md, 'cur.aside'));
  writeFileSync(cur, 'not a directory\n');
  const c = await f.client();
  t.same(await c.login('curfile', 'pw'), { ok: false, text: '[SYS/TEMP] maildrop cannot be opened now' });
  await f.server.waitForLine(/\[1\] maildrop scan failed user="curfile".*ENOTDIR/);
  t.same(await c.cmd('CAPA').then((r) => r.ok), true, 'the session goes on in AUTHORIZATION');

  unlinkSync(cur);
  renameSync(join(md, 'cur.aside'), cur);
  t.ok((await c.login('curfile', 'pw')).ok, 'cur/ back: the same session logs in');
  // The session works on the folders it opened at login (through their descriptors): a cur/
  // renamed away and replaced by a file mid-session changes nothing for it, and leads nowhere else.
  renameSync(cur, join(md, 'cur.aside'));
  writeFileSync(cur, 'not a directory\n');
  t.equal((await c.cmd('RETR 1')).body?.toString('latin1'), asServed(sampleMessage(1)).toString('latin1'), 'RETR reads the cur/ opened at login');
  t.ok((await c.cmd('DELE 1')).ok);
  t.same(await c.cmd('QUIT'), { ok: true, text: 'r2d2 signing off (1 message deleted)' });
  await f.server.waitForLine(/\[1\] update done user="curfile" deleted="1" failed="0"/);
  t.equal(inDir(md, 'cur.aside').length, 1, 'the deletion landed in the folder the session opened');
  unlinkSync(cur);
  renameSync(join(md, 'cur.aside'), cur);
  t.equal(inDir(md, 'cur').length, 1, 'nothing else lost');
  const again = await f.loggedIn('curfile', 'pw');
  t.match((await again.cmd('STAT')).text, /^1 /, 'the maildrop is not left locked');
});

t.test('new/ replaced by a file before UPDATE: the deletions apply to the new/ opened at login, nothing else is touched', async (t) => {
  const f = await fixture(t);
  const md = f.mail.maildir('newfile');
  putNumbered(md, Buffer.from(sampleMessage(1)), 0, 'cur');
  putNumbered(md, Buffer.from(sampleMessage(2)), 1);
  putNumbered(md, Buffer.from(sampleMessage(3)), 2);
  await f.db.addUser('newfile', 'pw', md);
  const c = await f.loggedIn('newfile', 'pw');
  for (const n of [1, 2]) t.ok((await c.cmd(`DELE ${n}`)).ok);
  const fresh = join(md, 'new');
  renameSync(fresh, join(md, 'new.aside'));
  writeFileSync(fresh, 'not a directory\n');
  t.same(await c.cmd('QUIT'), { ok: true, text: 'r2d2 signing off (2 messages deleted)' });
  await f.server.waitForLine(/\[1\] update done user="newfile" deleted="2" failed="0"/);
  unlinkSync(fresh);
  renameSync(join(md, 'new.aside'), fresh);
  t.same([inDir(md, 'cur').length, inDir(md, 'new').length], [0, 1], 'message 3, never deleted, is kept');
  const again = await f.loggedIn('newfile', 'pw');
  t.match((await again.cmd('STAT')).text, /^1 /, 'served again, the maildrop not locked');
});

t.test('the maildir itself gone or not a directory: -ERR [SYS/TEMP] at PASS, logged', async (t) => {
  const f = await fixture(t);
  const { md } = await user(f, 'gone', 1);
  rmSync(md, { recursive: true });
  const c = await f.client();
  t.same(await c.login('gone', 'pw'), { ok: false, text: '[SYS/TEMP] maildrop cannot be opened now' });
  await f.server.waitForLine(/\[1\] maildrop cannot be locked user="gone".*ENOENT/);
  writeFileSync(md, 'a file where the maildir was\n');
  t.same(await c.login('gone', 'pw'), { ok: false, text: '[SYS/TEMP] maildrop cannot be opened now' });
  await f.server.waitForLine(/\[1\] maildrop cannot be locked user="gone".*ENOTDIR/);
  t.ok((await c.cmd('NOOP').then(() => c.cmd('CAPA'))).ok, 'the session goes on');
});
