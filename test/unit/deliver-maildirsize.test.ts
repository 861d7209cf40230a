import { spawnSync } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { quotaState } from '../../src/deliver/quota-check';
import { appendMaildirSize, MAILDIRSIZE_REFUSED_CHANNEL, readMaildirSize, recalculateMaildirSize, RemovalTally } from '../../src/maildrop/maildirsize';
import { exceeds, parseQuotaDefinition, parseQuotaSpec } from '../../src/maildrop/quota';
import { measureUsage, sizeFromName } from '../../src/maildrop/quota-usage';
import { scanMaildrop } from '../../src/maildrop/scan';
import { applyDeletions } from '../../src/maildrop/update';

function maildir(t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'r2d2-quota-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const sub of ['new', 'cur', 'tmp']) fs.mkdirSync(path.join(dir, sub));
  return dir;
}

const put = (dir: string, rel: string, bytes: number): void => fs.writeFileSync(path.join(dir, rel), 'x'.repeat(bytes));

t.test('quota specs and Maildir++ definitions', async (t) => {
  t.same(parseQuotaDefinition('1000S,10C'), { bytes: 1000, messages: 10 });
  t.same(parseQuotaDefinition('10C'), { bytes: undefined, messages: 10 });
  t.same(parseQuotaDefinition(''), { bytes: undefined, messages: undefined });
  t.equal(parseQuotaDefinition('1000X'), undefined);
  t.same(parseQuotaSpec('500M'), { bytes: 500 * 2 ** 20, messages: undefined });
  t.same(parseQuotaSpec('2G,1000C'), { bytes: 2 * 2 ** 30, messages: 1000 });
  t.same(parseQuotaSpec('1048576'), { bytes: 1048576, messages: undefined });
  t.same(parseQuotaSpec('1048576S,5C'), { bytes: 1048576, messages: 5 });
  t.same(parseQuotaSpec(2048), { bytes: 2048, messages: undefined }, 'a number column');
  t.same(parseQuotaSpec(2048n), { bytes: 2048, messages: undefined }, 'a BIGINT column');
  for (const none of ['none', '0', 'unlimited', 0]) t.same(parseQuotaSpec(none), { bytes: undefined, messages: undefined });
  for (const bad of ['lots', '-5', '5X', '1.5G', -1]) t.equal(parseQuotaSpec(bad), undefined, String(bad));
  t.equal(exceeds({ bytes: 100, messages: undefined }, { bytes: 90, messages: 3 }, 10, 1), false, 'exactly full is allowed');
  t.equal(exceeds({ bytes: 100, messages: undefined }, { bytes: 90, messages: 3 }, 11, 1), true);
  t.equal(exceeds({ bytes: undefined, messages: 3 }, { bytes: 90, messages: 3 }, 1, 1), true);
  t.equal(sizeFromName('1700000000.M1P2.host,S=1234,W=1300:2,S'), 1234);
  t.equal(sizeFromName('1700000000.M1P2Z10.host'), undefined);
});

t.test('recalculation counts new/ and cur/ of the maildir and its folders; ,S= wins over the disk size', async (t) => {
  const dir = maildir(t);
  put(dir, 'new/1.M1Z0.h', 10);
  put(dir, 'cur/2.M2.h,S=500:2,S', 20);
  put(dir, 'tmp/3.M3.h', 1000);
  fs.mkdirSync(path.join(dir, '.Sent', 'cur'), { recursive: true });
  put(dir, '.Sent/cur/4.M4.h:2,S', 30);
  t.same(await measureUsage(dir), { bytes: 540, messages: 3 });
  t.same(await recalculateMaildirSize(dir, { bytes: 1000, messages: 10 }), { bytes: 540, messages: 3 });
  t.equal(fs.readFileSync(path.join(dir, 'maildirsize'), 'utf8'), '1000S,10C\n540 3\n');
  t.same(fs.readdirSync(path.join(dir, 'tmp')), ['3.M3.h'], 'the temporary file is gone');
  t.ok(await appendMaildirSize(dir, 7, 1));
  const read = await readMaildirSize(dir);
  t.same(read?.usage, { bytes: 547, messages: 4 });
  t.equal(read?.valid, true);
});

t.test('quotaState: none without a definition; recalculated when missing, changed, broken or big', async (t) => {
  const dir = maildir(t);
  put(dir, 'new/1.M1Z0.h', 10);
  t.equal(await quotaState(dir, undefined), undefined, 'no quota anywhere: no file made');
  t.equal(fs.existsSync(path.join(dir, 'maildirsize')), false);
  t.same((await quotaState(dir, { bytes: 100, messages: undefined }))?.usage, { bytes: 10, messages: 1 });
  t.equal(fs.readFileSync(path.join(dir, 'maildirsize'), 'utf8'), '100S\n10 1\n', 'created');
  fs.appendFileSync(path.join(dir, 'maildirsize'), '5 1\n');
  t.same((await quotaState(dir, undefined))?.usage, { bytes: 15, messages: 2 }, 'the file is believed');
  t.same((await quotaState(dir, { bytes: 200, messages: undefined }))?.usage, { bytes: 10, messages: 1 }, 'a new definition recounts');
  fs.appendFileSync(path.join(dir, 'maildirsize'), 'garbage\n');
  t.same((await quotaState(dir, undefined))?.usage, { bytes: 10, messages: 1 }, 'a broken file is recounted');
  fs.appendFileSync(path.join(dir, 'maildirsize'), '1 1\n'.repeat(2000));
  t.same((await quotaState(dir, undefined))?.usage, { bytes: 10, messages: 1 }, 'a file past 5120 bytes is recounted');
  t.equal(fs.readFileSync(path.join(dir, 'maildirsize'), 'utf8'), '200S\n10 1\n');
});

t.test("UPDATE's deletions are recorded in maildirsize", async (t) => {
  const dir = maildir(t);
  put(dir, 'new/1.M1Z0.h', 10);
  put(dir, 'new/2.M2Z0.h', 20);
  put(dir, 'cur/3.M3.h,S=300:2,S', 30);
  await recalculateMaildirSize(dir, { bytes: 10000, messages: undefined });
  const { messages } = await scanMaildrop(dir);
  const doomed = messages.filter((m) => m.file !== '1.M1Z0.h');
  t.same(await applyDeletions(dir, doomed), { deleted: 2, failed: 0 });
  t.equal(fs.readFileSync(path.join(dir, 'maildirsize'), 'utf8'), '10000S\n330 3\n-320 -2\n');
  t.same((await readMaildirSize(dir))?.usage, await measureUsage(dir), 'agrees with a recount');

  const plain = maildir(t);
  put(plain, 'new/1.M1Z0.h', 10);
  t.same(await applyDeletions(plain, (await scanMaildrop(plain)).messages), { deleted: 1, failed: 0 });
  t.equal(fs.existsSync(path.join(plain, 'maildirsize')), false, 'no maildirsize is made where there was none');
});

t.test('an untrusted maildirsize: a symlink, a FIFO or a hard-linked file is never read through nor written', async (t) => {
  const refusals: string[] = [];
  const onRefusal = (message: unknown): void => {
    refusals.push(String((message as { reason?: unknown }).reason));
  };
  subscribe(MAILDIRSIZE_REFUSED_CHANNEL, onRefusal);
  t.teardown(() => unsubscribe(MAILDIRSIZE_REFUSED_CHANNEL, onRefusal));
  const dir = maildir(t);
  put(dir, 'new/1.M1Z0.h', 10);
  const outside = path.join(dir, '..', `${path.basename(dir)}-outside`);
  fs.writeFileSync(outside, '100S\n0 0\n');
  t.teardown(() => fs.rmSync(outside, { force: true }));
  const file = path.join(dir, 'maildirsize');

  fs.symlinkSync(outside, file);
  t.equal(await readMaildirSize(dir), undefined, 'a symlink reads as no maildirsize');
  t.equal(await appendMaildirSize(dir, 5, 1), false, 'and is not appended to');
  t.equal(await RemovalTally.open(dir), undefined, 'UPDATE keeps no tally through it');
  t.equal(fs.readFileSync(outside, 'utf8'), '100S\n0 0\n', 'the target is unchanged');
  t.equal(refusals.length, 3, 'each refusal published');
  t.match(refusals[0], /symbolic link/);

  fs.rmSync(file);
  fs.linkSync(outside, file);
  t.equal(await appendMaildirSize(dir, 5, 1), false, 'a file with another hard link is not appended to');
  t.equal(fs.readFileSync(outside, 'utf8'), '100S\n0 0\n');

  fs.rmSync(file);
  t.equal(spawnSync('mkfifo', [file]).status, 0);
  t.equal(await readMaildirSize(dir), undefined, 'a FIFO is refused, without blocking');
  t.equal(await appendMaildirSize(dir, 5, 1), false);
  t.equal(await RemovalTally.open(dir), undefined);
});

t.test('measureUsage does not count through a symlinked new/, cur/ or folder', async (t) => {
  const dir = maildir(t);
  const other = maildir(t);
  put(other, 'new/9.M9Z0.h', 1000);
  put(dir, 'cur/1.M1.h:2,', 10);
  fs.rmSync(path.join(dir, 'new'), { recursive: true });
  fs.symlinkSync(path.join(other, 'new'), path.join(dir, 'new'));
  fs.symlinkSync(other, path.join(dir, '.Linked'));
  t.same(await measureUsage(dir), { bytes: 10, messages: 1 });
});
