// The imported-UIDL index as a client sees it through a real server: served from the next
// login on (the snapshot cache notices a new index), never two messages with one unique-id, and
// an index that is not a plain, bounded, valid file is not used (the maildrop is still served).
import { execFileSync } from 'node:child_process';
import { renameSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { displacedUidl, parseMaildirName } from '../../src/maildrop/name';
import { CACHE_MIN_MESSAGES } from '../../src/maildrop/snapshot-cache';
import { formatUidlIndex, MAX_INDEX_BYTES, UIDL_INDEX_FILE } from '../../src/maildrop/uidl-index';
import { uniqueName } from '../../src/deliver/unique-name';
import { fixture } from '../helpers/fixture';
import { putMessage, sampleMessage } from '../helpers/maildir';
import { GROWN_OCTETS, settle, unsizedMessage } from '../helpers/snapshot-probe';
import type { Pop3Client } from '../helpers/pop3-client';

const uidlOf = async (c: Pop3Client, n: number): Promise<string> => (await c.cmd(`UIDL ${n}`)).text.split(' ')[1] ?? '';
const listing = async (c: Pop3Client): Promise<string[]> => ((await c.cmd('UIDL')).lines ?? []).map((l) => l.split(' ')[1] ?? '');

/** Replaces the index the way the import does: a new file renamed over it. */
function writeIndex(md: string, entries: Map<string, string>): void {
  writeFileSync(join(md, 'tmp', 'index.new'), formatUidlIndex(entries));
  renameSync(join(md, 'tmp', 'index.new'), join(md, UIDL_INDEX_FILE));
}

async function session<T>(f: Awaited<ReturnType<typeof fixture>>, user: string, fn: (c: Pop3Client) => Promise<T>): Promise<T> {
  const c = await f.loggedIn(user, 'pw');
  const out = await fn(c);
  await c.cmd('QUIT');
  await c.waitClosed();
  return out;
}

t.test('a cached maildrop: a new index is served at the next login', async (t) => {
  const f = await fixture(t);
  const md = f.mail.maildir('big');
  const body = Buffer.from('Subject: s\n\nx\n');
  for (let i = 0; i < CACHE_MIN_MESSAGES + 10; i++) writeFileSync(join(md, 'cur', `${uniqueName(body.length + 3)}:2,S`), body);
  const file = unsizedMessage(md);
  await f.db.addUser('big', 'pw', md);
  await settle();
  const stat = (): Promise<string> => session(f, 'big', (c) => c.cmd('STAT')).then((r) => r.text);
  const native = await session(f, 'big', (c) => uidlOf(c, 1));
  const cached = await stat();
  file.grow();
  t.equal(await stat(), cached, 'the snapshot is cached (the grown file is not read again)');

  writeIndex(md, new Map([[native, '00000001deadbeef']]));
  t.same(
    await session(f, 'big', async (c) => [await uidlOf(c, 1), (await c.cmd('STAT')).text]),
    ['00000001deadbeef', cached.replace(/ (\d+)$/, (_, octets: string) => ` ${Number(octets) + GROWN_OCTETS}`)],
    'a new index is seen although new/ and cur/ did not change (scanned again)',
  );
  writeIndex(md, new Map([[native, '00000002deadbeef']]));
  t.equal(await session(f, 'big', (c) => uidlOf(c, 1)), '00000002deadbeef', 'and a replaced one too');
});

t.test('never two messages with one unique-id: an imported one keeps its message', async (t) => {
  const f = await fixture(t);
  const md = f.mail.maildir('alice');
  const a = putMessage(md, sampleMessage(1));
  const b = putMessage(md, sampleMessage(2), 'cur', 'S');
  const [na, nb] = [parseMaildirName(a).uidl, parseMaildirName(b).uidl];
  writeIndex(md, new Map([[na, nb]])); // a delivery whose own unique-id equals an imported one
  await f.db.addUser('alice', 'pw', md);
  t.same(await session(f, 'alice', listing), [nb, displacedUidl(nb)]);
});

t.test('an index that is not a plain, bounded, valid file is not used; the maildrop is served', async (t) => {
  const f = await fixture(t);
  const md = f.mail.maildir('alice');
  const name = putMessage(md, sampleMessage(1));
  const native = parseMaildirName(name).uidl;
  await f.db.addUser('alice', 'pw', md);
  const index = join(md, UIDL_INDEX_FILE);
  const other = join(f.mail.path, 'elsewhere');
  writeFileSync(other, formatUidlIndex(new Map([[native, 'STOLEN']])));

  symlinkSync(other, index);
  t.equal(await session(f, 'alice', (c) => uidlOf(c, 1)), native, 'a symlink is not followed');
  await f.server.waitForLine(/imported-UIDL index r2d2-uidls not used.*a symbolic link/);
  execFileSync('rm', [index]);

  execFileSync('mkfifo', [index]);
  t.equal(await session(f, 'alice', (c) => uidlOf(c, 1)), native, 'a FIFO is never waited on');
  await f.server.waitForLine(/r2d2-uidls not used.*not a regular file/);
  execFileSync('rm', [index]);

  writeFileSync(index, formatUidlIndex(new Map([[native, 'TOO-BIG']])));
  truncateSync(index, MAX_INDEX_BYTES + 1);
  t.equal(await session(f, 'alice', (c) => uidlOf(c, 1)), native, 'an oversized index is not read');
  await f.server.waitForLine(/r2d2-uidls not used.*larger than/);

  writeFileSync(index, `${native} NO-HEADER\n`);
  t.equal(await session(f, 'alice', (c) => uidlOf(c, 1)), native, 'a file without the header is not an index');

  writeFileSync(index, `r2d2-uidls 1\n${native} two words\n${native} GOOD-1\n`);
  t.equal(await session(f, 'alice', (c) => uidlOf(c, 1)), 'GOOD-1', 'invalid lines are skipped, valid ones used');
});
