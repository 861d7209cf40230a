// RETR of a file stored with CRLF (size on disk = announced size): chunks in wire form go out as
// they are, the rest through the encoder, and the bytes on the wire are those the encoder alone
// would send -- a "." at offset 0, after any LF and right after a 64 KiB chunk boundary
// included. A file whose size differs from the announced one, and TOP, always take the encoder.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import t, { type Test } from 'tap';
import { CHUNK_OCTETS, MessageFile } from '../../src/maildrop/message-file';
import { MessageEncoder } from '../../src/pop3/message-encoder';
import { messageChunks } from '../../src/pop3/message-reply';
import { ReplyBuffers } from '../../src/pop3/reply-buffers';
import { inWireForm } from '../../src/pop3/wire-form';
import { rfc822Size } from '../helpers/maildir';

const LF = 0x0a;
const IO = { blocking: true, syncReadMax: 128 * 1024 };
/** A file streamed in four chunks, the last one short. */
const STREAMED = 3 * CHUNK_OCTETS + 5_000;

/** What the encoder alone makes of the file: the reference. */
function encoded(content: Buffer, bodyLines?: number): Buffer {
  const e = new MessageEncoder(bodyLines);
  return Buffer.concat([e.encode(content), e.end()]);
}

/** CRLF lines of 64 octets, "." at each of `dots` (a line end put just before it). */
function crlfFile(octets: number, dots: readonly number[] = []): Buffer {
  const content = Buffer.alloc(octets, 'y');
  for (let lf = 63; lf < octets; lf += 64) content.write('\r\n', lf - 1, 'latin1');
  for (const at of dots) {
    if (at >= 2) content.write('\r\n', at - 2, 'latin1');
    content[at] = 0x2e;
    if (content[at + 1] === LF) content[at + 1] = 0x79; // the "." took a CR's place: no bare LF
  }
  content.write('\r\n', octets - 2, 'latin1');
  return content;
}

interface Sent {
  readonly bytes: Buffer;
  /** Chunks that went out as they are. */
  readonly asIs: number;
  readonly writes: number;
}

/** Runs the reply as the session runner would (the wire always idle, so buffers are reused). */
async function retr(t: Test, content: Buffer, announced: number, bodyLines?: number): Promise<Sent> {
  const dir = mkdtempSync(join(tmpdir(), 'r2d2-as-is-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'message');
  writeFileSync(path, content);
  const file = new MessageFile(path, 'message', announced, IO, pino({ enabled: false }));
  const pass = MessageEncoder.prototype.passAsIs;
  let asIs = 0;
  MessageEncoder.prototype.passAsIs = function (this: MessageEncoder, chunk: Buffer): boolean {
    const sent = pass.call(this, chunk);
    if (sent) asIs++;
    return sent;
  };
  const parts: Buffer[] = [];
  let writes = 0;
  try {
    for await (const pieces of messageChunks({ kind: 'message', head: `${announced} octets`, source: file, bodyLines }, new ReplyBuffers(() => true))) {
      writes++;
      for (const piece of pieces) parts.push(Buffer.from(piece)); // a copy, as the kernel takes it
    }
  } finally {
    MessageEncoder.prototype.passAsIs = pass;
  }
  return { bytes: Buffer.concat(parts), asIs, writes };
}

const head = (n: number): Buffer => Buffer.from(`+OK ${n} octets\r\n`);

t.test('inWireForm: a "." at a line start, at the start after an LF, a bare LF at the end', async (t) => {
  t.ok(inWireForm(Buffer.from('a\r\nb\r\n'), LF));
  t.notOk(inWireForm(Buffer.from('.a\r\n'), LF), 'a "." at the message start');
  t.ok(inWireForm(Buffer.from('.a\r\n'), 0x61), 'a "." mid-line (the chunk before ended mid-line)');
  t.notOk(inWireForm(Buffer.from('a\r\n.b\r\n'), LF), 'a "." after an LF');
  t.notOk(inWireForm(Buffer.from('a\r\nb\n'), LF), 'a bare LF at the end');
  t.notOk(inWireForm(Buffer.from('\n'), 0x61), 'a lone LF after a byte other than CR');
  t.ok(inWireForm(Buffer.from('\n'), 0x0d), 'an LF whose CR ended the chunk before');
  t.ok(inWireForm(Buffer.from('a\r\nb'), LF), 'no line end at the end: the terminator gets its own CRLF');
  t.notOk(inWireForm(Buffer.alloc(0), LF));
  const prose = 'One. Two. Three. Four.\r\nFive. Six. Seven. Eight. Nine. Ten.\r\n';
  t.ok(inWireForm(Buffer.from(prose), LF), 'many dots, none starting a line');
  t.notOk(inWireForm(Buffer.from(`${prose}.eleven\r\n`), LF), 'a "." line after more dots than are looked at one by one');
  t.notOk(inWireForm(Buffer.from(`${prose}x\r\n.\r\n`), LF), 'a "." line alone after them');
});

t.test('a small CRLF file goes out as it is, head, body and terminator in one writev', async (t) => {
  const content = crlfFile(29 * 1024);
  const sent = await retr(t, content, content.length);
  t.equal(sent.asIs, 1);
  t.equal(sent.writes, 1);
  t.same(sent.bytes, Buffer.concat([head(content.length), content, Buffer.from('.\r\n')]));
});

t.test('CRLF files with "." lines are still dot-stuffed: at offset 0, mid-file, across chunk boundaries', async (t) => {
  const cases: Array<[string, Buffer]> = [
    ['small, "." at offset 0', crlfFile(4096, [0])],
    ['small, "." mid-file', crlfFile(4096, [1000])],
    ['streamed, "." at offset 0', crlfFile(STREAMED, [0])],
    ['streamed, "." starts the second chunk', crlfFile(STREAMED, [CHUNK_OCTETS])],
    ['streamed, "." starts the third chunk', crlfFile(STREAMED, [2 * CHUNK_OCTETS])],
    ['streamed, "." just before the first boundary', crlfFile(STREAMED, [CHUNK_OCTETS - 1])],
    ['streamed, "." mid-chunk', crlfFile(STREAMED, [100_000])],
  ];
  for (const [name, content] of cases) {
    const sent = await retr(t, content, content.length);
    t.same(sent.bytes, Buffer.concat([head(content.length), encoded(content)]), `${name}: as the encoder sends it`);
    t.equal(rfc822Size(content), content.length, `${name}: a CRLF file`);
  }
  const boundary = await retr(t, crlfFile(STREAMED, [CHUNK_OCTETS]), STREAMED);
  t.equal(boundary.asIs, 3, 'the chunk after the "." goes through the encoder, the other three (two whole chunks, the rest) as they are');
  const clean = await retr(t, crlfFile(STREAMED), STREAMED);
  t.equal(clean.asIs, 4, 'a clean file: every chunk as it is');
  t.same(clean.bytes, Buffer.concat([head(STREAMED), crlfFile(STREAMED), Buffer.from('.\r\n')]));
  t.equal(clean.writes, 4, 'one write per chunk, the terminator with the last');
});

t.test('a file whose size differs from the announced size takes the encoder', async (t) => {
  const lf = Buffer.from('Subject: lf\n\nline one\nline two\n');
  const sent = await retr(t, lf, rfc822Size(lf));
  t.equal(sent.asIs, 0);
  t.same(sent.bytes, Buffer.concat([head(rfc822Size(lf)), encoded(lf)]));
  const big = Buffer.from(crlfFile(STREAMED).toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
  const streamed = await retr(t, big, rfc822Size(big));
  t.equal(streamed.asIs, 0, 'streamed');
  t.same(streamed.bytes, Buffer.concat([head(rfc822Size(big)), encoded(big)]));
  const claimed = crlfFile(4096);
  const larger = await retr(t, claimed, claimed.length + 10);
  t.equal(larger.asIs, 0, 'a CRLF file announced larger than it is');
});

t.test('TOP keeps the encoder', async (t) => {
  const content = crlfFile(STREAMED, [CHUNK_OCTETS]);
  const sent = await retr(t, content, content.length, 5);
  t.equal(sent.asIs, 0);
  t.same(sent.bytes, Buffer.concat([head(content.length), encoded(content, 5)]));
});

t.test('random CRLF files with "." lines anywhere: the same bytes as the encoder', async (t) => {
  let seed = 19;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let round = 0; round < 12; round++) {
    const octets = 1 + random(STREAMED + CHUNK_OCTETS);
    const dots = Array.from({ length: random(4) }, () => random(octets));
    const near = [CHUNK_OCTETS, 2 * CHUNK_OCTETS, 3 * CHUNK_OCTETS].map((b) => b + random(5) - 2).filter((d) => d >= 0 && d < octets - 2);
    const content = crlfFile(Math.max(octets, 4), [...dots.filter((d) => d < octets - 2), ...(round % 2 === 0 ? near : [])]);
    t.equal(rfc822Size(content), content.length, 'a CRLF file');
    const sent = await retr(t, content, content.length);
    t.same(sent.bytes, Buffer.concat([head(content.length), encoded(content)]), `${content.length} octets, "." at ${dots.join(' ')}`);
  }
});
