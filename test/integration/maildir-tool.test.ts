// `r2d2 maildir check|fix` through the real CLI, proven against the real POP3 server.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { readMaildirSize } from '../../src/maildrop/maildirsize';
import { measureUsage } from '../../src/maildrop/quota-usage';
import { parseMaildirName } from '../../src/maildrop/name';
import { fixture } from '../helpers/fixture';
import type { Pop3Client } from '../helpers/pop3-client';
import { asServed } from '../helpers/maildir';
import { run } from '../helpers/run';

const R2D2 = path.join(__dirname, '../../../bin/r2d2');
const maildirTool = (...args: string[]): ReturnType<typeof run> => run(R2D2, ['maildir', ...args]);

/** Every message as the server offers it: unique-id -> LIST size and the bytes RETR gives. */
async function listing(c: Pop3Client): Promise<Map<string, { size: number; body: string }>> {
  const uidl = (await c.cmd('UIDL')).lines ?? [];
  const list = (await c.cmd('LIST')).lines ?? [];
  const out = new Map<string, { size: number; body: string }>();
  for (const [i, line] of uidl.entries()) {
    const [n, id] = line.split(' ');
    const body = (await c.cmd(`RETR ${n}`)).body?.toString('latin1') ?? '';
    out.set(id ?? '', { size: Number(list[i]?.split(' ')[1]), body });
  }
  return out;
}

const message = (i: number, extra = ''): string => `Subject: foreign ${i}\nX: y\r\n\nline\n${extra}${i % 2 === 0 ? 'no newline' : 'end\n'}`;

const FOREIGN: Record<string, string> = {
  'cur/1700000000.M123P456.host,S=14,W=17:2,S': message(0), // Dovecot
  'cur/1700000001.M123456P7890.mailstore-07.dc2.example-hosting.net,S=12345,W=12600:2,S': message(1), // Dovecot, long host: hashed unique-id
  'cur/1700000002.M123456P7890V000000000000FC03I00000000000ABCDE.mx:2,': message(2), // Courier
  'new/1700000003.12345_1.courier.example.com': message(3), // Courier, older style
  'new/1700000004.M1P2Z99.h': message(4), // wrong size
  'new/1700000005.M1Z10P2Z20.mx1': message(5), // two Z fields
  'new/plain': message(6), // no dots at all
  'cur/1700000007.M1P2.hôst:2,RS': message(7), // not ASCII
  'new/1700000008.M1P2Z1B.host': 'Subject: ok\n\nright size\n', // already fine (27 octets served)
};
// A unique-id of 66 characters: no name of 70 can hold it and a size.
const UNFIXABLE = 'cur/1700000009.M123456P7890.mail-backend-03.example.com,S=12345,W=12600:2,';

t.test('fix gives foreign names their sizes and POP3 UIDLs, sizes and bytes stay the same', async (t) => {
  const f = await fixture(t);
  const md = f.mail.maildir('alice');
  for (const [rel, content] of Object.entries(FOREIGN)) fs.writeFileSync(path.join(md, rel), content);
  fs.writeFileSync(path.join(md, UNFIXABLE), message(9, 'x'.repeat(0x123456)));
  await f.db.addUser('alice', 'pw', md);

  const c1 = await f.loggedIn('alice', 'pw');
  const before = await listing(c1);
  await c1.cmd('QUIT');
  await c1.waitClosed();
  t.equal(before.size, 10);

  const check = await maildirTool('check', md);
  t.equal(check.code, 1, 'check finds work');
  const report = check.stdout.toString();
  t.match(report, `${md}: cur/1700000000.M123P456.host,S=14,W=17:2,S: no Z size in the name (the message is ${asServed(message(0)).length} octets)`);
  t.match(report, `new/1700000004.M1P2Z99.h: wrong Z size in the name (says 153, the message is ${asServed(message(4)).length} octets)`);
  t.match(report, /mailstore-07\.dc2\.example-hosting\.net,S=12345,W=12600:2,S: name longer than 70 characters before ":" \(76 characters/);
  t.notMatch(report, /1700000008/, 'a good name is not reported');
  t.match(report, `${md}: 9 to fix (10 messages)`);

  const dry = await maildirTool('fix', '--dry-run', md);
  t.equal(dry.code, 1);
  t.match(dry.stdout.toString(), /would rename new\/plain -> new\/\d+\.Z[0-9A-F]+\.~plain/);
  t.match(dry.stdout.toString(), `kept ${UNFIXABLE}: no name of at most 70 characters`);
  t.ok(fs.existsSync(path.join(md, 'new/plain')), 'a dry run changes nothing');

  const fix = await maildirTool('fix', '--progress', md);
  t.equal(fix.code, 1, 'one name is left as it is');
  t.match(fix.stdout.toString(), `${md}: 8 renamed, 1 kept, 0 failed`);
  t.match(fix.stdout.toString(), /renamed cur\/1700000000\.M123P456\.host,S=14,W=17:2,S -> cur\/1700000000\.M123P456Z[0-9A-F]+\.host,S=14,W=17:2,S\n/);
  t.match(fix.stderr, /renaming in .* 100% 8\/8/, 'progress bar');
  t.notOk(fs.existsSync(path.join(md, '.r2d2.lock')), 'the lock is released');

  for (const sub of ['new', 'cur']) {
    for (const name of fs.readdirSync(path.join(md, sub))) {
      if (`${sub}/${name}` === UNFIXABLE) continue;
      t.equal(parseMaildirName(name).size, asServed(fs.readFileSync(path.join(md, sub, name))).length, `${sub}/${name} carries its size`);
    }
  }

  const c2 = await f.loggedIn('alice', 'pw');
  const after = await listing(c2);
  await c2.cmd('QUIT');
  t.same([...after.keys()].sort(), [...before.keys()].sort(), 'the same unique-ids');
  for (const [id, was] of before) {
    const now = after.get(id);
    t.equal(now?.body, was.body, `${id}: the same bytes`);
    t.equal(now?.size, now?.body.length, `${id}: LIST = octets received`);
    if (id !== '1700000004.M1P2.h') t.equal(now?.size, was.size, `${id}: the same LIST size`);
  }
  t.equal(before.get('1700000004.M1P2.h')?.size, 0x99, 'the wrong name had made LIST wrong ...');
  t.equal(after.get('1700000004.M1P2.h')?.size, asServed(message(4)).length, '... and fix put it right');

  const again = await maildirTool('check', md);
  t.equal(again.code, 1);
  t.match(again.stdout.toString(), `${md}: 1 to fix (10 messages)`, 'only the one that cannot be helped');
  const fresh = await maildirTool('fix', '--new-uidl', md);
  t.equal(fresh.code, 0, fresh.stdout.toString());
  t.match(fresh.stdout.toString(), '(new unique-id)');
  t.equal((await maildirTool('check', md)).code, 0, 'clean');
  t.match((await maildirTool('check', '--quick', md)).stdout.toString(), `${md}: ok (10 messages)`);
});

t.test('fix takes the maildrop lock: it waits for a POP3 session, or answers 75 and renames nothing', async (t) => {
  const f = await fixture(t);
  const md = f.mail.maildir('bob');
  fs.writeFileSync(path.join(md, 'new', '1700000000.M1P2.h'), 'Subject: x\n\ny\n');
  await f.db.addUser('bob', 'pw', md);
  const c = await f.loggedIn('bob', 'pw');
  const busy = await maildirTool('fix', '--wait', '0', md);
  t.equal(busy.code, 75);
  t.match(busy.stderr, /locked by a POP3 session; nothing was renamed/);
  t.same(fs.readdirSync(path.join(md, 'new')), ['1700000000.M1P2.h']);

  const waiting = maildirTool('fix', '--wait', '60', md);
  await new Promise((resolve) => setTimeout(resolve, 300)); // let it find the lock taken (the result holds either way)
  t.same(fs.readdirSync(path.join(md, 'new')), ['1700000000.M1P2.h'], 'not renamed while the session lasts');
  await c.cmd('QUIT');
  const done = await waiting;
  t.equal(done.code, 0, done.stderr);
  t.same(fs.readdirSync(path.join(md, 'new')), ['1700000000.M1P2Z11.h']);
  const again = await f.loggedIn('bob', 'pw');
  t.same(await again.cmd('UIDL 1'), { ok: true, text: '1 1700000000.M1P2.h' });
});

t.test('names that are not UTF-8 are invisible to POP3 until fix renames them', async (t) => {
  const f = await fixture(t);
  const md = f.mail.maildir('carol');
  const raw = Buffer.concat([Buffer.from(path.join(md, 'new') + '/1700000000.M1P2.h'), Buffer.from([0xff, 0xfe])]);
  fs.writeFileSync(raw, 'Subject: latin-1 name\n\nx\n');
  await f.db.addUser('carol', 'pw', md);
  const c1 = await f.loggedIn('carol', 'pw');
  t.same(await c1.cmd('STAT'), { ok: true, text: '0 0' });
  await c1.cmd('QUIT');
  const check = await maildirTool('check', md);
  t.match(check.stdout.toString(), /name is not UTF-8/);
  t.equal((await maildirTool('fix', md)).code, 0);
  const c2 = await f.loggedIn('carol', 'pw');
  t.same(await c2.cmd('STAT'), { ok: true, text: `1 ${asServed('Subject: latin-1 name\n\nx\n').length}` });
});

t.test('maildirsize: deliveries add, POP3 deletions subtract, check finds drift, fix recounts; stale tmp/ files', async (t) => {
  const f = await fixture(t);
  const md = path.join(f.mail.path, 'dave');
  for (let i = 0; i < 3; i++) {
    const r = await run(R2D2, ['deliver', '--maildir', md, '--quota', '10M'], { input: `Subject: ${i}\n\n${'x'.repeat(i * 100)}\n` });
    t.equal(r.code, 0, r.stderr);
  }
  await f.db.addUser('dave', 'pw', md);
  const c = await f.loggedIn('dave', 'pw');
  await c.cmd('DELE 1');
  await c.cmd('DELE 3');
  t.match((await c.cmd('QUIT')).text, /2 messages deleted/);
  await c.waitClosed();
  const file = await readMaildirSize(md);
  t.same(file?.usage, await measureUsage(md), 'maildirsize agrees with the maildir after the POP3 deletions');
  t.same(file?.usage, { bytes: 113, messages: 1 });
  t.match(fs.readFileSync(path.join(md, 'maildirsize'), 'utf8'), /\n-\d+ -2\n$/, 'one line for the UPDATE');

  fs.appendFileSync(path.join(md, 'maildirsize'), '5000 7\n');
  const stale = path.join(md, 'tmp', '1600000000.P1.h');
  fs.writeFileSync(stale, 'half');
  const old = new Date(Date.now() - 40 * 3600 * 1000);
  fs.utimesSync(stale, old, old);
  fs.writeFileSync(path.join(md, 'tmp', 'fresh'), 'in progress');
  const check = await maildirTool('check', md);
  t.equal(check.code, 1);
  t.match(check.stdout.toString(), 'maildirsize: records 5113 bytes in 8 messages, the maildir holds 113 bytes in 1');
  t.match(check.stdout.toString(), /tmp\/1600000000\.P1\.h: left in tmp\/, untouched for 40 hours/);
  const fix = await maildirTool('fix', md);
  t.equal(fix.code, 0, fix.stdout.toString());
  t.match(fix.stdout.toString(), 'recalculated maildirsize: 113 bytes in 1 messages (quota 10485760S)');
  t.same(fs.readdirSync(path.join(md, 'tmp')), ['fresh'], 'only the stale tmp/ file is removed');
  t.equal(fs.readFileSync(path.join(md, 'maildirsize'), 'utf8'), '10485760S\n113 1\n');
  t.equal((await maildirTool('check', md)).code, 0);
});

t.test('exit statuses: 66 for a missing maildir, 64 for usage', async (t) => {
  const r = await maildirTool('check', '/nonexistent/r2d2-maildir');
  t.equal(r.code, 66);
  t.match(r.stderr, 'no such maildir');
  t.equal((await maildirTool('fix', '/nonexistent/r2d2-maildir')).code, 66);
  t.equal((await maildirTool('check')).code, 64, 'no maildir named');
  t.equal((await maildirTool('fix', '--wait', 'soon', '/tmp')).code, 64);
  t.equal((await maildirTool('frobnicate')).code, 64);
});
