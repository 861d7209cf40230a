import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { Rfc822SizeCounter, rfc822SizeOfFile } from '../../src/maildrop/rfc822-size';

/** The rule, written the obvious way over the whole message. */
function reference(b: Buffer): number {
  let n = 0;
  for (let i = 0; i < b.length; i++) n += b[i] === 0x0a && b[i - 1] !== 0x0d ? 2 : 1;
  if (b.length > 0 && b[b.length - 1] !== 0x0a) n += 2;
  return n;
}

function count(...chunks: Buffer[]): number {
  const c = new Rfc822SizeCounter();
  for (const chunk of chunks) c.push(chunk);
  return c.size;
}

t.test('fixed cases', async (t) => {
  const cases: [string, number][] = [
    ['', 0], ['a', 3], ['a\n', 3], ['a\r\n', 3], ['a\r', 4], ['\n', 2], ['\r\n', 2], ['\r', 3],
    ['a\nb', 6], ['a\r\nb\r\n', 6], ['\r\r\n', 3], ['\n\n', 4], ['\n\r', 5], ['a\n\r\nb\r\r\n', 9],
  ];
  for (const [text, size] of cases) {
    const b = Buffer.from(text, 'latin1');
    t.equal(count(b), size, JSON.stringify(text));
    t.equal(reference(b), size, `reference ${JSON.stringify(text)}`);
  }
  t.equal(count(Buffer.alloc(0), Buffer.alloc(0)), 0, 'empty chunks');
  t.equal(count(Buffer.from([0x00, 0xff, 0x80])), 5, 'binary bytes count 1');
});

t.test('chunk splits at every position', async (t) => {
  const samples = ['a\r\nb\nc\r\rd\n\r\n', '\r\n\r\n.\r\n', '\n\r\n\r', 'x\r', '\r\n'];
  let random = 7;
  for (let s = 0; s < 20; s++) {
    const bytes: number[] = [];
    for (let i = 0; i < 64; i++) {
      random = (random * 1103515245 + 12345) >>> 0;
      bytes.push([0x0d, 0x0a, 0x41, 0x2e][random % 4] ?? 0x41);
    }
    samples.push(Buffer.from(bytes).toString('latin1'));
  }
  let checks = 0;
  for (const text of samples) {
    const b = Buffer.from(text, 'latin1');
    const want = reference(b);
    for (let i = 0; i <= b.length; i++) {
      if (count(b.subarray(0, i), b.subarray(i)) !== want) t.fail(`split at ${i} of ${JSON.stringify(text)}`);
      for (let j = i; j <= Math.min(b.length, i + 3); j++) {
        if (count(b.subarray(0, i), b.subarray(i, j), b.subarray(j)) !== want) t.fail(`split at ${i},${j}`);
        checks++;
      }
    }
    t.equal(count(...[...b].map((x) => Buffer.from([x]))), want, 'byte by byte');
  }
  t.ok(checks > 1000, `${checks} three-way splits agree with the reference`);
});

t.test('rfc822SizeOfFile', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'r2d2-size-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  // CR as the last byte of the first 64 KiB read, LF as the first of the second.
  const big = Buffer.alloc(200_000, 0x41);
  big[65_535] = 0x0d;
  big[65_536] = 0x0a;
  for (let i = 1000; i < big.length; i += 1000) big[i] = 0x0a;
  const file = path.join(dir, 'm');
  fs.writeFileSync(file, big);
  t.equal(await rfc822SizeOfFile(file), reference(big));
  fs.writeFileSync(file, '');
  t.equal(await rfc822SizeOfFile(file), 0);
  fs.writeFileSync(file, 'Subject: x\n\nbody\n');
  t.equal(await rfc822SizeOfFile(file), 20);
  await t.rejects(rfc822SizeOfFile(path.join(dir, 'missing')), { code: 'ENOENT' });
});
