import t from 'tap';
import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture } from '../helpers/fixture';
import { putMessage, sampleMessage } from '../helpers/maildir';
import { CACHE_MIN_MESSAGES } from '../../src/maildrop/snapshot-cache';
import { GROWN_OCTETS, settle, unsizedMessage } from '../helpers/snapshot-probe';
import { uniqueName } from '../../src/deliver/unique-name';

/** Writes `n` tiny messages fast (names carry their size: 17 octets each). */
function fill(md: string, n: number): void {
  const body = Buffer.from('Subject: s\n\nx\n');
  for (let i = 0; i < n; i++) writeFileSync(join(md, 'cur', `${uniqueName(body.length + 3)}:2,S`), body);
}

const stat = async (c: { cmd(l: string): Promise<{ text: string }> }): Promise<{ messages: number; octets: number }> => {
  const [messages = NaN, octets = NaN] = (await c.cmd('STAT')).text.split(' ').slice(0, 2).map(Number);
  return { messages, octets };
};

t.test('an unchanged maildrop is not scanned again; any change is seen at the next login', async (t) => {
  const f = await fixture(t);
  const md = f.mail.maildir('drop');
  fill(md, 50);
  const file = unsizedMessage(md);
  await f.db.addUser('drop', 'pw', md);
  await settle();
  const first = await f.loggedIn('drop', 'pw');
  const before = await stat(first);
  t.equal(before.messages, 51);
  await first.cmd('QUIT');
  await first.waitClosed();

  file.grow();
  const second = await f.loggedIn('drop', 'pw');
  t.same(await stat(second), before, 'the snapshot was reused: the grown file keeps the size the scan read');
  t.ok((await second.cmd('RETR 51')).ok, 'its messages are served');
  await second.cmd('DELE 1');
  await second.cmd('QUIT');
  await second.waitClosed();

  const third = await f.loggedIn('drop', 'pw');
  const after = await stat(third);
  t.equal(after.messages, 50, 'the deletion changed cur/: scanned again');
  t.equal(after.octets, before.octets - 17 + GROWN_OCTETS, 'and the grown file read anew');
  await third.cmd('QUIT');
  await third.waitClosed();

  // Cached again once cur/ has settled; then a file slipped in with the folder's mtime put back
  // (rsync -t, touch -r): its ctime tells. (The mtime is set to a whole millisecond first, so
  // that putting it back through utimes restores it exactly.)
  const past = new Date(Date.now() - 60_000);
  utimesSync(join(md, 'cur'), past, past);
  await settle();
  const fourth = await f.loggedIn('drop', 'pw');
  t.equal((await stat(fourth)).messages, 50);
  await fourth.cmd('QUIT');
  await fourth.waitClosed();
  putMessage(md, sampleMessage(1), 'cur', 'S');
  utimesSync(join(md, 'cur'), past, past);
  const fifth = await f.loggedIn('drop', 'pw');
  t.equal((await stat(fifth)).messages, 51, 'seen although the mtime was put back');
  await fifth.cmd('QUIT');
  await fifth.waitClosed();

  putMessage(md, sampleMessage(2)); // a real delivery into new/
  const sixth = await f.loggedIn('drop', 'pw');
  t.equal((await stat(sixth)).messages, 52);
});

t.test('folders changed just before the scan are not cached', async (t) => {
  const f = await fixture(t);
  const fresh = f.mail.maildir('fresh');
  fill(fresh, CACHE_MIN_MESSAGES + 10);
  const file = unsizedMessage(fresh); // cur/ changed just now: not trusted for caching
  await f.db.addUser('fresh', 'pw', fresh);
  const c = await f.loggedIn('fresh', 'pw');
  const first = await stat(c);
  await c.cmd('QUIT');
  await c.waitClosed();
  file.grow();
  const d = await f.loggedIn('fresh', 'pw');
  const second = await stat(d);
  t.equal(second.messages, first.messages);
  t.equal(second.octets, first.octets + GROWN_OCTETS, 'scanned again: the grown file read anew');
});
