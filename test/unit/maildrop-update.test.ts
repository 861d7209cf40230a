import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { scanMaildrop, type MessageEntry } from '../../src/maildrop/scan';
import { applyDeletions } from '../../src/maildrop/update';

interface Test { teardown(fn: () => void): void }
const UPDATE_MODULE = path.resolve(__dirname, '../../src/maildrop/update.js');

function maildir(t: Test, files: readonly string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'r2d2-update-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const sub of ['new', 'cur', 'tmp']) fs.mkdirSync(path.join(dir, sub));
  for (const f of files) fs.writeFileSync(path.join(dir, f), f);
  return dir;
}

const left = (dir: string): string[] =>
  ['new', 'cur', 'tmp'].flatMap((d) => fs.readdirSync(path.join(dir, d)).map((f) => `${d}/${f}`)).sort();
const byFile = (messages: readonly MessageEntry[], ...files: string[]): MessageEntry[] =>
  messages.filter((m) => files.includes(`${m.dir}/${m.file}`));

t.test('deletes exactly the doomed', async (t) => {
  const files = ['new/1.M1Z0.h', 'new/2.M2Z0.h', 'cur/3.M3Z0.h:2,S', 'cur/4.M4Z0.h:2,S', 'cur/5.M5Z0.h:2,', 'tmp/6.M6.h'];
  const dir = maildir(t, files);
  const { messages } = await scanMaildrop(dir);
  const doomed = byFile(messages, 'new/2.M2Z0.h', 'cur/4.M4Z0.h:2,S');
  t.same(await applyDeletions(dir, doomed), { deleted: 2, failed: 0 });
  t.same(left(dir), ['cur/3.M3Z0.h:2,S', 'cur/5.M5Z0.h:2,', 'new/1.M1Z0.h', 'tmp/6.M6.h']);
  t.same(await applyDeletions(dir, []), { deleted: 0, failed: 0 }, 'nothing doomed, nothing done');
});

t.test('a message already gone counts as deleted', async (t) => {
  const dir = maildir(t, ['new/1.M1Z0.h', 'cur/2.M2Z0.h:2,S']);
  const { messages } = await scanMaildrop(dir);
  fs.unlinkSync(path.join(dir, 'new/1.M1Z0.h'));
  t.same(await applyDeletions(dir, messages.slice(0, 1)), { deleted: 1, failed: 0 });
  t.same(left(dir), ['cur/2.M2Z0.h:2,S']);
  fs.rmSync(path.join(dir, 'cur'), { recursive: true });
  fs.rmSync(path.join(dir, 'new'), { recursive: true });
  t.same(await applyDeletions(dir, messages), { deleted: 2, failed: 0 }, 'even with new/ and cur/ gone');
});

t.test('a message renamed by another tool since the scan is found by its unique-id', async (t) => {
  const dir = maildir(t, ['new/1.M1.h', 'new/2.M2.h', 'cur/3.M3.h:2,S', 'cur/4.M4.h:2,', 'new/5.M5.h']);
  const { messages } = await scanMaildrop(dir);
  fs.renameSync(path.join(dir, 'new/1.M1.h'), path.join(dir, 'cur/1.M1.h:2,S')); // new -> cur (a MUA)
  fs.renameSync(path.join(dir, 'cur/3.M3.h:2,S'), path.join(dir, 'cur/3.M3.h:2,RS')); // flags changed
  fs.renameSync(path.join(dir, 'cur/4.M4.h:2,'), path.join(dir, 'cur/4.M4Z8.h:2,')); // given its Z size
  fs.renameSync(path.join(dir, 'new/2.M2.h'), path.join(dir, 'cur/2.M2.h:2,T')); // not doomed
  const doomed = byFile(messages, 'new/1.M1.h', 'cur/3.M3.h:2,S', 'cur/4.M4.h:2,');
  t.same(await applyDeletions(dir, doomed), { deleted: 3, failed: 0 });
  t.same(left(dir), ['cur/2.M2.h:2,T', 'new/5.M5.h']);
});

t.test('errors other than ENOENT count as failed, and nothing is thrown', async (t) => {
  const dir = maildir(t, ['cur/1.M1Z0.h:2,S', 'cur/2.M2Z0.h:2,S']);
  const { messages } = await scanMaildrop(dir);
  // unlink(2) on a directory fails with EISDIR: the stand-in for EACCES/EROFS/EIO that root can make.
  fs.unlinkSync(path.join(dir, 'cur/1.M1Z0.h:2,S'));
  fs.mkdirSync(path.join(dir, 'cur/1.M1Z0.h:2,S'));
  t.same(await applyDeletions(dir, messages), { deleted: 1, failed: 1 });
  t.same(left(dir), ['cur/1.M1Z0.h:2,S']);
  // cur/ replaced by a file: ENOTDIR, not "gone".
  const again = maildir(t, ['cur/1.M1Z0.h:2,S']);
  const scanned = await scanMaildrop(again);
  fs.rmSync(path.join(again, 'cur'), { recursive: true });
  fs.writeFileSync(path.join(again, 'cur'), '');
  t.same(await applyDeletions(again, scanned.messages), { deleted: 0, failed: 1 });
});

/** As root, permissions are tested by running node as nobody; a reason to skip if that cannot work. */
function cannotRunAsNobody(): string | false {
  if (process.getuid?.() !== 0) return false;
  const run = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(UPDATE_MODULE)})`], { uid: 65534, gid: 65534, encoding: 'utf8' });
  return run.status === 0 ? false : `running as root and node cannot run as nobody: ${run.stderr || String(run.error)}`;
}

t.test('a directory the server may not write: EACCES counts as failed', { skip: cannotRunAsNobody() }, async (t) => {
  const dir = maildir(t, ['cur/1.M1Z0.h:2,S', 'new/2.M2Z0.h']);
  const { messages } = await scanMaildrop(dir);
  const doomed = JSON.stringify(messages);
  if (process.getuid?.() === 0) {
    // root ignores permissions: run the deletion as nobody (65534) over root's 0755 directories.
    fs.chmodSync(dir, 0o755);
    const script = `require(process.argv[1]).applyDeletions(process.argv[2], JSON.parse(process.argv[3])).then((r) => process.stdout.write(JSON.stringify(r)))`;
    const run = spawnSync(process.execPath, ['-e', script, UPDATE_MODULE, dir, doomed], { uid: 65534, gid: 65534, encoding: 'utf8' });
    t.equal(run.status, 0, run.stderr);
    const result: unknown = JSON.parse(run.stdout);
    t.same(result, { deleted: 0, failed: 2 });
  } else {
    fs.chmodSync(path.join(dir, 'cur'), 0o555);
    fs.chmodSync(path.join(dir, 'new'), 0o555);
    t.teardown(() => ['cur', 'new'].forEach((d) => fs.chmodSync(path.join(dir, d), 0o755)));
    t.same(await applyDeletions(dir, messages), { deleted: 0, failed: 2 });
  }
  t.same(left(dir), ['cur/1.M1Z0.h:2,S', 'new/2.M2Z0.h'], 'both still there');
});
