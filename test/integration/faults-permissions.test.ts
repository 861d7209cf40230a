// Permission faults, with the sessions run as `nobody` (uid = nobody in c11n; the test needs
// root to start such a server and is skipped otherwise): a message file nobody may read, a
// cur/ nobody may list, a maildir nobody may write (no lock), new/ made read-only before
// UPDATE. Each gets a clean -ERR [SYS/TEMP] and a log line naming the errno; the session and
// the server go on; nothing is lost.
import t from 'tap';
import { chmodSync, chownSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { TestDatabase } from '../helpers/mariadb';
import { putNumbered } from '../helpers/client-matrix';
import { MailRoot, putMessage, sampleMessage } from '../helpers/maildir';
import { Pop3Client } from '../helpers/pop3-client';
import { SpawnedServer, spawnedConfig } from '../helpers/spawned-server';
import { databaseAndMail } from '../helpers/test-resources';

const NOBODY = 65534;
const skip = process.getuid?.() === 0 ? {} : { skip: 'needs root to run the sessions as nobody' };

t.test('files and folders the session user may not read or write', skip, async (t) => {
  const { db, mail } = await databaseAndMail(t);
  chmodSync(mail.path, 0o755);
  const box = async (name: string, count: number): Promise<{ md: string; files: string[] }> => {
    const md = mail.maildir(name);
    const files: string[] = [];
    for (let i = 1; i <= count; i++) files.push(putNumbered(md, Buffer.from(sampleMessage(i)), i - 1));
    for (const path of [md, ...['tmp', 'new', 'cur'].map((s) => join(md, s)), ...files.map((f) => join(md, 'new', f))]) chownSync(path, NOBODY, NOBODY);
    await db.addUser(name, 'pw', md);
    return { md, files };
  };
  const server = await SpawnedServer.start(t, spawnedConfig(db.name, mail.path, 'uid = nobody\ngid = nogroup', 2));
  const clients: Pop3Client[] = [];
  t.teardown(() => clients.forEach((c) => c.destroy()));
  const client = async (): Promise<Pop3Client> => {
    const { client: c } = await Pop3Client.greeted(server.port());
    clients.push(c);
    return c;
  };
  const count = (md: string): number => readdirSync(join(md, 'new')).length + readdirSync(join(md, 'cur')).length;

  await t.test('a message file nobody may read: -ERR [SYS/TEMP] at RETR, the session goes on', async (t) => {
    const { md, files } = await box('noread', 3);
    chmodSync(join(md, 'new', files[1] ?? ''), 0o000);
    const c = await client();
    t.ok((await c.login('noread', 'pw')).ok);
    t.same(await c.cmd('RETR 2'), { ok: false, text: '[SYS/TEMP] message cannot be read now' });
    await server.waitFor(/message cannot be read .*code="EACCES"/);
    t.ok((await c.cmd('RETR 3')).ok, 'the next message is served');
    t.same(await c.cmd('QUIT'), { ok: true, text: 'r2d2 signing off' });
  });

  await t.test('cur/ nobody may list: -ERR [SYS/TEMP] at PASS, logged', async (t) => {
    const { md } = await box('nolist', 1);
    chmodSync(join(md, 'cur'), 0o000);
    const c = await client();
    t.same(await c.login('nolist', 'pw'), { ok: false, text: '[SYS/TEMP] maildrop cannot be opened now' });
    await server.waitFor(/maildrop scan failed user="nolist".*EACCES/);
    chmodSync(join(md, 'cur'), 0o700);
    t.ok((await c.login('nolist', 'pw')).ok, 'readable again: the same session logs in (the lock was released)');
    await c.cmd('QUIT');
  });

  await t.test('a maildir nobody may write (no lock can be taken): -ERR [SYS/TEMP] at PASS', async (t) => {
    const { md } = await box('nolock', 1);
    chmodSync(md, 0o500);
    const c = await client();
    t.same(await c.login('nolock', 'pw'), { ok: false, text: '[SYS/TEMP] maildrop cannot be opened now' });
    await server.waitFor(/maildrop cannot be locked user="nolock".*EACCES/);
    chmodSync(md, 0o700);
    t.ok((await c.login('nolock', 'pw')).ok, 'writable again: logs in');
    await c.cmd('QUIT');
  });

  await t.test('new/ made read-only before UPDATE: QUIT says which deletions failed; nothing lost', async (t) => {
    const { md } = await box('rodir', 3);
    const c = await client();
    t.ok((await c.login('rodir', 'pw')).ok);
    t.ok((await c.cmd('DELE 1')).ok);
    t.ok((await c.cmd('DELE 3')).ok);
    chmodSync(join(md, 'new'), 0o500);
    t.same(await c.cmd('QUIT'), { ok: false, text: '[SYS/TEMP] some deleted messages not removed (2 of 2)' });
    await server.waitFor(/update done user="rodir" deleted="0" failed="2"/);
    chmodSync(join(md, 'new'), 0o700);
    t.equal(count(md), 3, 'nothing lost');
    const again = await client();
    t.ok((await again.login('rodir', 'pw')).ok, 'not left locked');
    t.ok((await again.cmd('DELE 1')).ok);
    t.same(await again.cmd('QUIT'), { ok: true, text: 'r2d2 signing off (1 message deleted)' }, 'writable again: deletions apply');
    t.equal(count(md), 2);
  });

  const c = await client();
  t.ok((await c.cmd('CAPA')).ok, 'the server goes on');
  t.same(server.lines.filter((l) => /command failed|session failed|worker thread died/.test(l)), [], 'no internal error, no worker lost');
});

t.test('the session user cannot reach the maildir root at all: -ERR, not a crash', skip, async (t) => {
  const db = await TestDatabase.create();
  const mail = new MailRoot(); // mkdtemp: 0700 root-owned, so nobody cannot enter it
  t.teardown(async () => {
    await db.drop();
    mail.remove();
  });
  const md = mail.maildir('hidden');
  mkdirSync(join(md, 'new'), { recursive: true });
  putMessage(md, sampleMessage(1));
  await db.addUser('hidden', 'pw', md);
  const server = await SpawnedServer.start(t, spawnedConfig(db.name, mail.path, 'uid = nobody\ngid = nogroup', 1));
  const { client: c } = await Pop3Client.greeted(server.port());
  t.teardown(() => c.destroy());
  const r = await c.login('hidden', 'pw');
  t.equal(r.ok, false, `refused: ${r.text}`);
  t.match(r.text, /^\[SYS\/(TEMP|PERM)\] /, 'with a response code');
  t.ok((await c.cmd('CAPA')).ok, 'the session goes on');
});
