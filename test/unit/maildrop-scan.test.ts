import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { messagePath, scanMaildrop } from '../../src/maildrop/scan';

interface Test { teardown(fn: () => void): void }

function maildir(t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'r2d2-scan-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const sub of ['new', 'cur', 'tmp']) fs.mkdirSync(path.join(dir, sub));
  return dir;
}

const put = (dir: string, rel: string, body = ''): void => fs.writeFileSync(path.join(dir, rel), body);

t.test('order: time part numerically, then name; new and cur merged', async (t) => {
  const dir = maildir(t);
  put(dir, 'cur/1000.M1P1Z0.h:2,S');
  put(dir, 'new/999.M9P1Z0.h');
  put(dir, 'new/1000.M0P1Z0.h');
  put(dir, 'cur/junk-without-time:2,');
  put(dir, 'new/20.M1P1Z0.h');
  put(dir, 'cur/abc.M1P1Z0.h:2,');
  const s = await scanMaildrop(dir);
  t.same(s.messages.map((m) => `${m.dir}/${m.file}`), [
    'new/20.M1P1Z0.h', 'new/999.M9P1Z0.h', 'new/1000.M0P1Z0.h', 'cur/1000.M1P1Z0.h:2,S',
    'cur/abc.M1P1Z0.h:2,', 'cur/junk-without-time:2,',
  ]);
  t.same(s.messages[0], { dir: 'new', file: '20.M1P1Z0.h', size: 0, uidl: '20.M1P1.h' });
  t.equal(messagePath(dir, s.messages[3]!), path.join(dir, 'cur', '1000.M1P1Z0.h:2,S'));
  t.same(await scanMaildrop(dir), s, 'a second scan numbers the same');
});

t.test('sizes: Z trusted without reading, slow path read', async (t) => {
  const dir = maildir(t);
  put(dir, 'new/1.M1Z10.h', 'abc'); // the name says 16: the file is not read
  put(dir, 'cur/2.M2.h:2,S', 'a\nb'); // 1 + 2 + 1 + 2
  put(dir, 'cur/3.M3Z1a.h:2,S', 'x\r\n'); // lower case: slow path
  const s = await scanMaildrop(dir);
  t.same(s.messages.map((m) => m.size), [16, 6, 3]);
  t.equal(s.totalOctets, 25);
  t.equal(s.slowPath, 2);
});

t.test('skipped: dot files, tmp/, duplicates, vanished and odd slow-path entries', async (t) => {
  const dir = maildir(t);
  put(dir, 'new/.hidden');
  put(dir, 'cur/.1.M1Z0.h:2,');
  put(dir, 'tmp/5.M5Z0.h');
  put(dir, 'new/1.M1P1.h', 'in new');
  put(dir, 'cur/1.M1P1.h:2,S', 'in cur');
  put(dir, 'cur/2.M2.h:2,');
  put(dir, 'cur/2.M2Z4.h:2,S', 'x');
  fs.symlinkSync(path.join(dir, 'nowhere'), path.join(dir, 'cur/3.M3.h:2,')); // vanished before it was read
  fs.mkdirSync(path.join(dir, 'cur/4.M4.h:2,'));
  fs.writeFileSync(path.join(dir, '.r2d2.lock'), 'x');
  const s = await scanMaildrop(dir);
  t.same(s.messages.map((m) => `${m.dir}/${m.file}`), ['cur/1.M1P1.h:2,S', 'cur/2.M2Z4.h:2,S']);
  t.equal(s.messages[0]?.size, 8);
  t.equal(s.slowPath, 3, 'cur/1 and the two odd entries were read');
});

t.test('missing and wrong directories', async (t) => {
  const dir = maildir(t);
  put(dir, 'new/1.M1Z0.h');
  fs.rmdirSync(path.join(dir, 'cur'));
  t.equal((await scanMaildrop(dir)).messages.length, 1, 'missing cur/ is empty');
  fs.rmSync(path.join(dir, 'new'), { recursive: true });
  t.same(await scanMaildrop(dir), { messages: [], totalOctets: 0, slowPath: 0, uidlIndex: 'none' }, 'both missing');
  await t.rejects(scanMaildrop(path.join(dir, 'nope')), { code: 'ENOENT' }, 'missing maildir');
  put(dir, 'cur');
  await t.rejects(scanMaildrop(dir), { code: 'ENOTDIR' }, 'cur is a file');
  fs.rmSync(path.join(dir, 'cur'));
  put(dir, 'new');
  await t.rejects(scanMaildrop(dir), { code: 'ENOTDIR' }, 'new is a file');
  await t.rejects(scanMaildrop(path.join(dir, 'new')), { code: 'ENOTDIR' }, 'the maildir is a file');
});

t.test('50,000 names', async (t) => {
  const dir = maildir(t);
  const n = 50_000;
  for (let i = 0; i < n; i++) {
    const rel = i % 2 ? `cur/${1_700_000_000 + i}.M${i}P42Q${i}Z${(1000 + i).toString(16).toUpperCase()}.mx1:2,S` : `new/${1_700_000_000 + i}.M${i}P42Q${i}Z3E8.mx1`;
    fs.closeSync(fs.openSync(path.join(dir, rel), 'w'));
  }
  await scanMaildrop(dir); // warm the directory cache
  const started = process.hrtime.bigint();
  const s = await scanMaildrop(dir);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  t.equal(s.messages.length, n);
  t.equal(s.slowPath, 0);
  t.equal(s.messages[n - 1]?.file.startsWith(String(1_700_000_000 + n - 1)), true, 'oldest first');
  t.comment(`scan of ${n} names: ${ms.toFixed(1)} ms`);
  t.ok(ms < 2000, 'well under two seconds even on a slow machine');
});

t.test('within one second, unpadded microseconds sort as numbers', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'r2d2-scan-micros-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const sub of ['new', 'cur', 'tmp']) fs.mkdirSync(path.join(dir, sub));
  const names = ['1764200000.M100000P1Q3Z1.h', '1764200000.M99999P1Q2Z1.h', '1764200000.M5P1Q1Z1.h', '1764199999.M999999P1Q9Z1.h'];
  for (const n of names) fs.writeFileSync(path.join(dir, 'new', n), 'x');
  const snapshot = await scanMaildrop(dir);
  t.same(
    snapshot.messages.map((m) => m.file),
    ['1764199999.M999999P1Q9Z1.h', '1764200000.M5P1Q1Z1.h', '1764200000.M99999P1Q2Z1.h', '1764200000.M100000P1Q3Z1.h'],
  );
});
