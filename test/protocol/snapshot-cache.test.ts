import t from 'tap';
import { statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture } from '../helpers/fixture';
import { putMessage, sampleMessage } from '../helpers/maildir';
import { CACHE_MIN_MESSAGES } from '../../src/maildrop/snapshot-cache';
import { uniqueName } from '../../src/deliver/unique-name';

/** Writes `n` tiny messages fast (names carry their size) and ages both folders. */
function fill(md: string, n: number): void {
  const body = Buffer.from('Subject: s\n\nx\n');
  for (let i = 0; i < n; i++) writeFileSync(join(md, 'cur', `${uniqueName(body.length + 3)}:2,S`), body);
  age(md);
}

function age(md: string): void {
  const past = new Date(Date.now() - 60_000);
  for (const sub of ['new', 'cur']) utimesSync(join(md, sub), past, past);
}

const count = async (c: { cmd(l: string): Promise<{ text: string }> }): Promise<number> => Number((await c.cmd('STAT')).text.split(' ')[0]);

t.test('a large, unchanged maildrop is not scanned again; any change is seen at the next login', async (t) => {
  const f = await fixture(t);
  const md = f.mail.maildir('big');
  fill(md, CACHE_MIN_MESSAGES);
  await f.db.addUser('big', 'pw', md);
  const first = await f.loggedIn('big', 'pw');
  t.equal(await count(first), CACHE_MIN_MESSAGES);
  await first.cmd('QUIT');
  await first.waitClosed();

  // A file slipped in with the folder's mtime put back: only a cached snapshot misses it.
  const cur = statSync(join(md, 'cur'));
  putMessage(md, sampleMessage(1), 'cur', 'S');
  utimesSync(join(md, 'cur'), cur.atime, cur.mtime);
  const second = await f.loggedIn('big', 'pw');
  t.equal(await count(second), CACHE_MIN_MESSAGES, 'the snapshot was reused (no readdir)');
  t.ok((await second.cmd(`RETR ${CACHE_MIN_MESSAGES}`)).ok, 'its messages are served');
  await second.cmd('DELE 1');
  await second.cmd('QUIT');
  await second.waitClosed();

  const third = await f.loggedIn('big', 'pw');
  t.equal(await count(third), CACHE_MIN_MESSAGES, 'the deletion changed cur/: scanned again, both changes seen');
  await third.cmd('QUIT');
  await third.waitClosed();

  putMessage(md, sampleMessage(2)); // a real delivery into new/
  const fourth = await f.loggedIn('big', 'pw');
  t.equal(await count(fourth), CACHE_MIN_MESSAGES + 1);
});

t.test('small maildrops, and folders changed just before the scan, are never cached', async (t) => {
  const f = await fixture(t);
  const small = f.mail.maildir('small');
  fill(small, 10);
  await f.db.addUser('small', 'pw', small);
  const a = await f.loggedIn('small', 'pw');
  t.equal(await count(a), 10);
  await a.cmd('QUIT');
  await a.waitClosed();
  const cur = statSync(join(small, 'cur'));
  putMessage(small, sampleMessage(1), 'cur', 'S');
  utimesSync(join(small, 'cur'), cur.atime, cur.mtime);
  const b = await f.loggedIn('small', 'pw');
  t.equal(await count(b), 11, 'scanned again');
  await b.cmd('QUIT');
  await b.waitClosed();

  const fresh = f.mail.maildir('fresh');
  fill(fresh, CACHE_MIN_MESSAGES);
  putMessage(fresh, sampleMessage(3)); // new/ changed just now: not trusted for caching
  await f.db.addUser('fresh', 'pw', fresh);
  const c = await f.loggedIn('fresh', 'pw');
  t.equal(await count(c), CACHE_MIN_MESSAGES + 1);
  await c.cmd('QUIT');
  await c.waitClosed();
  const newDir = statSync(join(fresh, 'new'));
  putMessage(fresh, sampleMessage(4));
  utimesSync(join(fresh, 'new'), newDir.atime, newDir.mtime);
  const d = await f.loggedIn('fresh', 'pw');
  t.equal(await count(d), CACHE_MIN_MESSAGES + 2, 'scanned again');
});
