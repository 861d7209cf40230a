// The delivery routine in-process (src/deliver/deliver.ts): names, sizes, bytes, failures.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { deliverMessage } from '../../src/deliver/deliver';
import { DeliveryError } from '../../src/deliver/sysexits';
import { parseMaildirName } from '../../src/maildrop/name';
import { asServed, MailRoot } from '../helpers/maildir';

function root(t: Test): MailRoot {
  const mail = new MailRoot();
  t.teardown(() => mail.remove());
  return mail;
}

const files = (dir: string): string[] => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);

async function exitCodeOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 0;
  } catch (e) {
    if (e instanceof DeliveryError) return e.exitCode;
    throw e;
  }
}

/** The file in new/ holds exactly the input, its name the size a POP3 client receives. */
function checkDelivered(t: Test, dir: string, input: Buffer, file: string): void {
  t.ok(fs.readFileSync(path.join(dir, 'new', file)).equals(input), 'content kept byte for byte');
  t.equal(parseMaildirName(file).size, asServed(input).length, `${file}: Z size = octets served`);
  t.ok(file.length <= 70);
}

t.test('sizes: bare LFs, CRLFs, lone CRs, no final newline, a dot line', async (t) => {
  const dir = root(t).maildir('a');
  const inputs = [
    'Subject: lf\n\nbody\n',
    'Subject: crlf\r\n\r\nbody\r\n',
    'Subject: mixed\r\n\nline\nline\r\n',
    'Subject: no final newline\n\nlast line',
    'Subject: lone CR\r\rx\n',
    'Subject: dots\n\n.\n..\n.x\n',
    'x',
    '\n',
  ];
  for (const text of inputs) {
    const input = Buffer.from(text);
    const d = await deliverMessage(input, { maildir: dir });
    t.equal(d.size, asServed(input).length, JSON.stringify(text));
    t.equal(d.bytes, input.length);
    checkDelivered(t, dir, input, d.file);
  }
  t.equal(files(path.join(dir, 'new')).length, inputs.length);
  t.same(files(path.join(dir, 'tmp')), [], 'tmp/ is left empty');
});

t.test('a 20 MB message, streamed in odd chunks (a CR at the end of one chunk, its LF in the next)', async (t) => {
  const dir = root(t).maildir('big');
  const line = Buffer.from('0123456789'.repeat(7) + '\r\n');
  const bare = Buffer.from('x'.repeat(60) + '\n');
  const parts: Buffer[] = [Buffer.from('Subject: big\n\n')];
  let total = 0;
  while (total < 20 * 1024 * 1024) {
    const p = parts.length % 3 === 0 ? bare : line;
    parts.push(p);
    total += p.length;
  }
  const input = Buffer.concat(parts);
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let at = 0; at < input.length; at += 65_537) yield input.subarray(at, Math.min(at + 65_537, input.length));
  }
  const d = await deliverMessage(chunks(), { maildir: dir, blockingFileIo: true });
  t.equal(d.bytes, input.length);
  t.equal(d.size, asServed(input).length);
  checkDelivered(t, dir, input, d.file);
});

// The I/O policy's two ways (deliver/disk.ts): each safety property holds for both.
for (const blocking of [false, true]) {
  const mode = blocking ? 'blocking calls' : 'thread pool';
  const deliver: typeof deliverMessage = (input, options) => deliverMessage(input, { blockingFileIo: blocking, ...options });
  t.test(`a leading mbox From_ line is dropped unless kept; empty input is not mail (65) (${mode})`, async (t) => {
    const dir = root(t).maildir('from');
    const body = 'Subject: hello\n\nFrom here on\n';
    const d = await deliver(Buffer.from(`From sender@example.com Mon Jan  1 00:00:00 2024\n${body}`), { maildir: dir });
    t.equal(fs.readFileSync(d.path, 'utf8'), body);
    t.equal(d.size, asServed(body).length);
    const kept = await deliver(Buffer.from(`From x\n${body}`), { maildir: dir, keepFromLine: true });
    t.equal(fs.readFileSync(kept.path, 'utf8'), `From x\n${body}`);
    const split = async function* (): AsyncGenerator<Buffer> {
      yield Buffer.from('Fr');
      yield Buffer.from('om a\nSub');
      yield Buffer.from('ject: s\n\nx\n');
    };
    t.equal(fs.readFileSync((await deliver(split(), { maildir: dir })).path, 'utf8'), 'Subject: s\n\nx\n', 'split across chunks');
    t.equal(fs.readFileSync((await deliver(Buffer.from('Fro\n'), { maildir: dir })).path, 'utf8'), 'Fro\n', 'not a From_ line');
    const before = files(path.join(dir, 'new'));
    t.equal(await exitCodeOf(deliver(Buffer.alloc(0), { maildir: dir })), 65);
    t.equal(await exitCodeOf(deliver(Buffer.from('From only-an-envelope\n'), { maildir: dir })), 65);
    t.same(files(path.join(dir, 'new')), before, 'nothing delivered');
    t.same(files(path.join(dir, 'tmp')), [], 'nothing left in tmp/');
  });

  t.test(`a missing maildir is created 0700; --no-create and paths outside maildir_root answer 75 (${mode})`, async (t) => {
    const mail = root(t);
    const dir = path.join(mail.path, 'example.com', 'alice');
    await deliver(Buffer.from('Subject: x\n\ny\n'), { maildir: dir, maildirRoot: mail.path });
    for (const sub of ['tmp', 'new', 'cur']) t.equal(fs.statSync(path.join(dir, sub)).mode & 0o777, 0o700, sub);
    t.equal(fs.statSync(path.join(dir, 'new', files(path.join(dir, 'new'))[0] ?? '')).mode & 0o777, 0o600, 'the message is 0600');
    t.equal(await exitCodeOf(deliver(Buffer.from('x\n'), { maildir: path.join(mail.path, 'bob'), create: false })), 75);
    t.notOk(fs.existsSync(path.join(mail.path, 'bob')));
    t.equal(await exitCodeOf(deliver(Buffer.from('x\n'), { maildir: '/etc/r2d2-nope', maildirRoot: mail.path })), 75);
    t.equal(await exitCodeOf(deliver(Buffer.from('x\n'), { maildir: 'relative/path' })), 75);
  });

  t.test(`symbolic links never lead a delivery out of the maildir (${mode})`, async (t) => {
    const mail = root(t);
    const outside = mail.maildir('outside');
    const dir = mail.maildir('inside');
    fs.rmSync(path.join(dir, 'tmp'), { recursive: true });
    fs.symlinkSync(path.join(outside, 'tmp'), path.join(dir, 'tmp'));
    t.equal(await exitCodeOf(deliver(Buffer.from('x\n'), { maildir: dir })), 75, 'tmp/ is a symlink');
    fs.rmSync(path.join(dir, 'tmp'));
    fs.mkdirSync(path.join(dir, 'tmp'));
    fs.rmSync(path.join(dir, 'new'), { recursive: true });
    fs.symlinkSync(path.join(outside, 'new'), path.join(dir, 'new'));
    t.equal(await exitCodeOf(deliver(Buffer.from('x\n'), { maildir: dir })), 75, 'new/ is a symlink');
    t.same(files(path.join(outside, 'new')), [], 'nothing written outside');
    t.same(files(path.join(outside, 'tmp')), []);
    t.same(files(path.join(dir, 'tmp')), [], 'nothing left in tmp/');

    // A maildir that is itself a link out of maildir_root.
    const jail = path.join(mail.path, 'jail');
    fs.mkdirSync(jail);
    fs.symlinkSync(outside, path.join(jail, 'escape'));
    t.equal(await exitCodeOf(deliver(Buffer.from('x\n'), { maildir: path.join(jail, 'escape'), maildirRoot: jail })), 75);
    t.same(files(path.join(outside, 'new')), []);
  });

  t.test(`quota: refused with 75 or 69 by setting, nothing left behind; maildirsize updated (${mode})`, async (t) => {
    const dir = root(t).maildir('q');
    const quota = { bytes: 100, messages: undefined };
    await deliver(Buffer.from('a'.repeat(59) + '\n'), { maildir: dir, quota });
    t.equal(fs.readFileSync(path.join(dir, 'maildirsize'), 'utf8'), '100S\n0 0\n60 1\n');
    t.equal(await exitCodeOf(deliver(Buffer.from('b'.repeat(40) + '\n'), { maildir: dir, quota })), 75, 'over: tempfail');
    t.equal(await exitCodeOf(deliver(Buffer.from('b'.repeat(40) + '\n'), { maildir: dir, quota, overQuota: 'bounce' })), 69, 'over: bounce');
    t.equal(files(path.join(dir, 'new')).length, 1);
    t.same(files(path.join(dir, 'tmp')), []);
    await deliver(Buffer.from('c'.repeat(39) + '\n'), { maildir: dir });
    t.equal(fs.readFileSync(path.join(dir, 'maildirsize'), 'utf8'), '100S\n0 0\n60 1\n40 1\n', 'exactly full; the file keeps the quota');
    t.equal(await exitCodeOf(deliver(Buffer.from('d\n'), { maildir: dir })), 75, "maildirsize's own definition is enforced");
    const counted = { bytes: undefined, messages: 3 };
    await deliver(Buffer.from('e\n'), { maildir: dir, quota: counted });
    t.equal(await exitCodeOf(deliver(Buffer.from('f\n'), { maildir: dir, quota: counted })), 75, 'message count');
  });
}

t.test('1,000 deliveries at once into one maildir: in this process and from 4 processes', async (t) => {
  const dir = root(t).maildir('many');
  const inputs = Array.from({ length: 600 }, (_, i) => Buffer.from(`Subject: ${i}\n\n${'line\n'.repeat(i % 7)}${i % 3 === 0 ? 'no newline' : ''}`));
  // 4 processes x 100 deliveries, started at the same moment as the 600 in-process ones.
  const script = `
    const { deliverMessage } = require(${JSON.stringify(path.resolve(__dirname, '../../src/deliver/deliver.js'))});
    const n = Number(process.argv[1]);
    Promise.all(Array.from({ length: 100 }, (_, i) => deliverMessage(Buffer.from('Subject: p' + n + '-' + i + '\\n\\n' + 'x\\n'.repeat(i)), { maildir: process.argv[2] })))
      .then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });`;
  const children = [0, 1, 2, 3].map(
    (n) =>
      new Promise<number | null>((resolve) => {
        const c = spawn(process.execPath, ['-e', script, String(n), dir], { stdio: ['ignore', 'inherit', 'inherit'] });
        c.on('close', resolve);
      }),
  );
  // In-process with blocking calls (the LMTP listener's default), the children through the pool.
  const delivered = await Promise.all(inputs.map((input) => deliverMessage(input, { maildir: dir, blockingFileIo: true })));
  t.same(await Promise.all(children), [0, 0, 0, 0]);
  const names = files(path.join(dir, 'new'));
  t.equal(names.length, 1000, 'every message has its own file');
  t.equal(new Set(names.map((n) => parseMaildirName(n).uidl)).size, 1000, 'and its own unique-id');
  t.ok(names.every((n) => n.length <= 70), 'every name within 70');
  let wrong = 0;
  for (const n of names) {
    if (parseMaildirName(n).size !== asServed(fs.readFileSync(path.join(dir, 'new', n))).length) wrong++;
  }
  t.equal(wrong, 0, 'every size right');
  t.equal(new Set(delivered.map((d) => d.file)).size, 600);
  t.same(files(path.join(dir, 'tmp')), [], 'tmp/ is empty');
});

// Disk full and read-only file systems: a small tmpfs (needs the right to mount, as in CI's container).
const NO_MOUNT = ((): string | false => {
  const point = fs.mkdtempSync(path.join(os.tmpdir(), 'r2d2-mount-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', point], { encoding: 'utf8' });
  if (r.status === 0) spawnSync('umount', [point]);
  fs.rmdirSync(point);
  return r.status === 0 ? false : `cannot mount a tmpfs here (${(r.stderr || String(r.error)).trim()})`;
})();

function mountTmpfs(t: Test, options: string): string {
  const mail = root(t);
  const point = path.join(mail.path, 'mnt');
  fs.mkdirSync(point);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', point], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount: ${r.stderr}`);
  t.teardown(() => {
    spawnSync('umount', [point]);
  });
  return point;
}

for (const blocking of [false, true]) {
  const mode = blocking ? 'blocking calls' : 'thread pool';
  const deliver: typeof deliverMessage = (input, options) => deliverMessage(input, { blockingFileIo: blocking, ...options });
  t.test(`disk full: 75, and neither new/ nor tmp/ keeps a byte (${mode})`, { skip: NO_MOUNT }, async (t) => {
    const point = mountTmpfs(t, 'size=256k,mode=0700');
    const dir = path.join(point, 'md');
    await deliver(Buffer.from('Subject: fits\n\nx\n'), { maildir: dir });
    const big = Buffer.alloc(1024 * 1024, 'y');
    const e = await deliver(big, { maildir: dir }).catch((err: unknown) => err);
    t.ok(e instanceof DeliveryError && e.exitCode === 75, String(e));
    t.match(String(e), /ENOSPC/);
    t.equal(files(path.join(dir, 'new')).length, 1, 'only the first message');
    t.same(files(path.join(dir, 'tmp')), [], 'the partial file is removed');
  });

  t.test(`read-only file system: 75 and nothing written (${mode})`, { skip: NO_MOUNT }, async (t) => {
    const point = mountTmpfs(t, 'size=1m');
    for (const sub of ['tmp', 'new', 'cur']) fs.mkdirSync(path.join(point, 'md', sub), { recursive: true });
    t.equal(spawnSync('mount', ['-o', 'remount,ro', point]).status, 0);
    const e = await deliver(Buffer.from('x\n'), { maildir: path.join(point, 'md') }).catch((err: unknown) => err);
    t.ok(e instanceof DeliveryError && e.exitCode === 75, String(e));
    t.match(String(e), /EROFS/);
    t.same(files(path.join(point, 'md', 'new')), []);
    t.same(files(path.join(point, 'md', 'tmp')), []);
  });
}
