// Deliveries racing an attacker and each other: new/ or tmp/ swapped for a symlink while
// deliveries run (issue 12 item 6), and a message quota hit by 100 deliveries at once.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { deliverMessage, type Delivered } from '../../src/deliver/deliver';
import { DeliveryError } from '../../src/deliver/sysexits';
import { readMaildirSize } from '../../src/maildrop/maildirsize';
import { measureUsage } from '../../src/maildrop/quota-usage';
import { MailRoot } from '../helpers/maildir';

function root(t: Test): MailRoot {
  const mail = new MailRoot();
  t.teardown(() => mail.remove());
  return mail;
}

const files = (dir: string): string[] => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);

// Swaps `<target>` for a symlink to `<outside>` and back, as fast as it can, until `<stop>`
// exists; every cycle ends with the real directory back in place. Prints the cycles done.
const SWAPPER = `
  const fs = require('node:fs');
  const [target, outside, stop] = process.argv.slice(1);
  const real = target + '.real', link = target + '.link';
  fs.symlinkSync(outside, link);
  process.stdout.write('ready\\n');
  let cycles = 0;
  while (!fs.existsSync(stop)) {
    fs.renameSync(target, real);
    fs.renameSync(link, target);
    fs.renameSync(target, link);
    fs.renameSync(real, target);
    cycles++;
  }
  fs.unlinkSync(link);
  process.stdout.write(cycles + '\\n');`;

function startSwapper(target: string, outside: string, stop: string): { child: ChildProcess; ready: Promise<void>; cycles: Promise<number> } {
  const child = spawn(process.execPath, ['-e', SWAPPER, target, outside, stop], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let readyNow: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (readyNow = resolve));
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.startsWith('ready\n')) readyNow();
  });
  const cycles = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Number(out.split('\n')[1])) : reject(new Error(`swapper exited ${String(code)}`))));
  });
  return { child, ready, cycles };
}

/** Runs `count` deliveries, `concurrency` at a time; answers each one's result or exit code. */
async function deliverMany(count: number, concurrency: number, one: (i: number) => Promise<Delivered>): Promise<Array<Delivered | number>> {
  const results: Array<Delivered | number> = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      try {
        results[i] = await one(i);
      } catch (e) {
        if (!(e instanceof DeliveryError)) throw e;
        results[i] = e.exitCode;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

for (const sub of ['new', 'tmp'] as const) {
  t.test(`${sub}/ swapped for a symlink to an outside folder while 400 deliveries run: nothing lands outside, every delivered message is inside once`, async (t) => {
    const mail = root(t);
    const dir = mail.maildir('inside');
    const outside = path.join(mail.path, 'outside');
    fs.mkdirSync(outside);
    // Every name ever created outside, even one unlinked a moment later (a tmp/ file).
    const seenOutside: string[] = [];
    const watcher = fs.watch(outside, (_event, name) => {
      if (name !== null) seenOutside.push(name);
    });
    t.teardown(() => watcher.close());
    const stop = path.join(mail.path, 'stop');
    const swapper = startSwapper(path.join(dir, sub), outside, stop);
    t.teardown(() => {
      if (swapper.child.exitCode === null) swapper.child.kill();
    });
    await swapper.ready;
    const results = await deliverMany(400, 16, (i) => deliverMessage(Buffer.from(`Subject: ${i}\n\nbody ${i}\n`), { maildir: dir, create: false }));
    fs.writeFileSync(stop, '');
    const cycles = await swapper.cycles;
    await new Promise((resolve) => setTimeout(resolve, 200)); // the watcher's last events
    t.ok(cycles > 0, `the swapper ran (${cycles} cycles)`);
    t.ok(fs.lstatSync(path.join(dir, sub)).isDirectory(), `${sub}/ is the real folder again`);

    const delivered = results.filter((r): r is Delivered => typeof r !== 'number');
    const failures = results.filter((r): r is number => typeof r === 'number');
    t.ok(delivered.length > 0, `${delivered.length} delivered, ${failures.length} refused while the link was there`);
    t.same([...new Set(failures)].filter((code) => code !== 75), [], 'every refusal is a tempfail (the MTA retries)');
    t.same(seenOutside, [], 'no file was ever created in the outside folder');
    t.same(files(outside), [], 'the outside folder is empty');
    const inNew = files(path.join(dir, 'new'));
    t.same(inNew, delivered.map((d) => d.file).sort(), "new/ holds exactly the delivered messages, each once");
    let wrong = 0;
    for (const d of delivered) {
      const i = results.indexOf(d);
      const file = path.join(dir, 'new', d.file);
      if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== `Subject: ${i}\n\nbody ${i}\n`) wrong++;
    }
    t.equal(wrong, 0, 'each file holds its message');
    t.same(files(path.join(dir, 'tmp')), [], 'tmp/ is left empty');
  });
}

// 100 deliveries at once (25 in each of 4 processes) into a maildir with a 20-message quota.
const QUOTA_SCRIPT = `
  const { deliverMessage } = require(${JSON.stringify(path.resolve(__dirname, '../../src/deliver/deliver.js'))});
  const [n, maildir, overQuota] = process.argv.slice(1);
  Promise.all(Array.from({ length: 25 }, (_, i) =>
    deliverMessage(Buffer.from('Subject: p' + n + '-' + i + '\\n\\nbody\\n'), { maildir, quota: { bytes: undefined, messages: 20 }, overQuota })
      .then(() => 0, (e) => { if (e.exitCode === undefined) throw e; return e.exitCode; })))
    .then((codes) => { process.stdout.write(JSON.stringify(codes)); process.exit(0); }, (e) => { console.error(e); process.exit(1); });`;

function runQuotaProcess(n: number, maildir: string, overQuota: string): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['-e', QUOTA_SCRIPT, String(n), maildir, overQuota], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.on('error', reject);
    c.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as number[]) : reject(new Error(`delivery process exited ${String(code)}`))));
  });
}

for (const [overQuota, refused] of [
  ['tempfail', 75],
  ['bounce', 69],
] as const) {
  t.test(`a 20-message quota, 100 deliveries at once from 4 processes: exactly 20 stored, 80 answered ${refused}`, async (t) => {
    const dir = root(t).maildir('quota');
    const codes = (await Promise.all([0, 1, 2, 3].map((n) => runQuotaProcess(n, dir, overQuota)))).flat();
    t.equal(codes.length, 100);
    t.equal(codes.filter((c) => c === 0).length, 20, '20 delivered');
    t.equal(codes.filter((c) => c === refused).length, 80, `80 over quota (${refused})`);
    t.equal(files(path.join(dir, 'new')).length, 20, '20 files in new/');
    t.same(files(path.join(dir, 'tmp')), [], 'tmp/ is empty');
    t.equal(fs.existsSync(path.join(dir, 'maildirsize.lock')), false, 'the quota lock is gone');
    const recorded = await readMaildirSize(dir);
    t.same(recorded?.usage, await measureUsage(dir), 'maildirsize agrees with a recount');
    t.equal(recorded?.usage.messages, 20);
  });
}

t.test('the quota lock: a dead holder is broken at once, a live one is waited for', async (t) => {
  const dir = root(t).maildir('stale');
  const lock = path.join(dir, 'maildirsize.lock');
  const quota = { bytes: undefined, messages: 10 };
  // A pid that has exited: its lock is stale.
  const dead = await new Promise<number>((resolve) => {
    const c = spawn(process.execPath, ['-e', '0']);
    c.on('close', () => resolve(c.pid ?? 0));
  });
  fs.writeFileSync(lock, `${dead}:${(await import('node:os')).hostname()}\n`);
  await deliverMessage(Buffer.from('Subject: a\n\na\n'), { maildir: dir, quota });
  t.equal(fs.existsSync(lock), false, "a dead holder's lock was broken and the delivery's own released");
  t.equal(files(path.join(dir, 'new')).length, 1);

  // A lock held by a live process (this one): the delivery waits until it is released.
  fs.writeFileSync(lock, `${process.pid}:${(await import('node:os')).hostname()}\n`);
  let releasedAt = 0;
  setTimeout(() => {
    releasedAt = Date.now();
    fs.rmSync(lock, { force: true });
  }, 300);
  await deliverMessage(Buffer.from('Subject: b\n\nb\n'), { maildir: dir, quota });
  t.ok(releasedAt > 0, 'the delivery finished only after the holder released the lock');
  t.equal(files(path.join(dir, 'new')).length, 2);
  t.equal((await readMaildirSize(dir))?.usage.messages, 2);
});
