// Property-based tests of the RETR/TOP encoder against a reference model: for any file content
// cut into any chunks, the output is a well-formed multi-line body (CRLF lines, every line that
// starts with "." stuffed, one terminator), and un-stuffed it is exactly the message in RFC 822
// CRLF form (all of it for RETR; header, blank line and n body lines for TOP), whose length is
// the size LIST announces (src/maildrop/rfc822-size).
import t from 'tap';
import fc from 'fast-check';
import { MessageEncoder } from '../../src/pop3/message-encoder';
import { Rfc822SizeCounter } from '../../src/maildrop/rfc822-size';
import { asServed } from '../helpers/maildir';
import { encodeJsInto } from '../../src/pop3/encoder-js';
import { encodeWasmInto, wasmKernelAvailable } from '../../src/pop3/encoder-wasm';
import { chunked, cutPoints, params, protocolByte, protocolBytes, runs } from '../helpers/fuzz';

/** The CRLF form, by a route of its own: bare LF -> CRLF, a final CRLF added to a non-empty unterminated file. */
function crlfForm(file: Buffer): string {
  const text = file.toString('latin1').replace(/\r?\n/g, '\r\n');
  return text.length > 0 && !text.endsWith('\n') ? text + '\r\n' : text;
}

/** TOP n of the CRLF form: the lines through the first empty one, then n more (all if there is no empty line). */
function topForm(file: Buffer, n: number): string {
  const lines = crlfForm(file).split(/(?<=\r\n)/);
  const blank = lines.indexOf('\r\n');
  return blank === -1 ? lines.join('') : lines.slice(0, blank + 1 + n).join('');
}

function encode(file: Buffer, cuts: number[], bodyLines?: number): string {
  const encoder = new MessageEncoder(bodyLines);
  const parts: Buffer[] = [];
  for (const chunk of chunked(file, cuts)) {
    if (encoder.done) break; // the connection stops reading once TOP has what it needs
    parts.push(encoder.encode(chunk));
  }
  parts.push(encoder.end());
  return Buffer.concat(parts).toString('latin1');
}

/** Checks the wire form and returns it un-stuffed, without the terminator. */
function unstuff(wire: string): string {
  if (!wire.endsWith('.\r\n')) throw new Error(`no terminator: ${JSON.stringify(wire.slice(-20))}`);
  const body = wire.slice(0, -3);
  if (body.length > 0 && !body.endsWith('\r\n')) throw new Error('the terminator does not start a line');
  if (/(^|[^\r])\n/.test(body)) throw new Error('a bare LF on the wire');
  const lines = body.length === 0 ? [] : body.slice(0, -2).split('\r\n');
  return lines
    .map((l) => {
      if (l === '.') throw new Error('an unstuffed lone dot before the terminator');
      if (l.startsWith('.') && !l.startsWith('..')) throw new Error(`an unstuffed dot line: ${JSON.stringify(l.slice(0, 20))}`);
      return (l.startsWith('.') ? l.slice(1) : l) + '\r\n';
    })
    .join('');
}

/** File contents: protocol bytes, often shaped like a message (headers, blank line, body). */
const messageFile = fc.oneof(
  protocolBytes(4000),
  fc
    .tuple(fc.array(fc.stringMatching(/^[A-Za-z-]{1,10}: [ -~]{0,30}$/), { maxLength: 5 }), fc.constantFrom('\n', '\r\n'), protocolBytes(2000))
    .map(([headers, eol, body]) => Buffer.concat([Buffer.from(headers.map((h) => h + eol).join('') + eol), body])),
);

t.test('RETR: un-stuffed output == the CRLF form; its length == the rfc822 size', async (t) => {
  fc.assert(
    fc.property(messageFile, cutPoints, cutPoints, (file, cuts, sizeCuts) => {
      const plain = unstuff(encode(file, cuts));
      const want = crlfForm(file);
      if (plain !== want) throw new Error(`got ${JSON.stringify(plain)}\nwant ${JSON.stringify(want)}`);
      if (want !== asServed(file).toString('latin1')) throw new Error('the test helper asServed disagrees');
      const counter = new Rfc822SizeCounter();
      for (const chunk of chunked(file, sizeCuts)) counter.push(chunk);
      if (counter.size !== Buffer.byteLength(plain, 'latin1')) throw new Error(`size ${counter.size} != ${plain.length} octets served`);
    }),
    params(500),
  );
  t.pass(`held for ${runs(500)} inputs`);
});

t.test('TOP n: un-stuffed output == header, blank line and n body lines of the CRLF form', async (t) => {
  fc.assert(
    fc.property(messageFile, fc.nat({ max: 20 }), cutPoints, (file, n, cuts) => {
      const plain = unstuff(encode(file, cuts, n));
      const want = topForm(file, n);
      if (plain !== want) throw new Error(`TOP ${n}: got ${JSON.stringify(plain)}\nwant ${JSON.stringify(want)}`);
    }),
    params(500),
  );
  t.pass(`held for ${runs(500)} inputs`);
});

t.test('the output does not depend on how the file is cut into chunks', async (t) => {
  fc.assert(
    fc.property(messageFile, cutPoints, cutPoints, (file, a, b) => {
      if (encode(file, a) !== encode(file, b)) throw new Error('output depends on the chunking');
    }),
    params(300),
  );
  t.pass(`held for ${runs(300)} inputs`);
});

/** The same file through encodeInto (one reused output buffer, at an offset) and encodeShared. */
function encodeOtherWays(file: Buffer, cuts: number[], bodyLines?: number): { into: string; shared: string } {
  const into = new MessageEncoder(bodyLines);
  const shared = new MessageEncoder(bodyLines);
  const out = Buffer.alloc(7 + MessageEncoder.maxEncodedLength(file.length), 0x55);
  const intoParts: string[] = [];
  const sharedParts: Buffer[] = [];
  for (const chunk of chunked(file, cuts)) {
    if (into.done) break;
    const n = into.encodeInto(chunk, out, 7);
    intoParts.push(out.toString('latin1', 7, 7 + n));
    // A copy: what encodeShared returns may be the chunk itself.
    sharedParts.push(Buffer.from(shared.encodeShared(Buffer.from(chunk))));
  }
  intoParts.push(into.end().toString('latin1'));
  sharedParts.push(shared.end());
  return { into: intoParts.join(''), shared: Buffer.concat(sharedParts).toString('latin1') };
}

t.test('encodeInto and encodeShared give the bytes encode gives (RETR and TOP)', async (t) => {
  fc.assert(
    fc.property(messageFile, fc.option(fc.nat({ max: 20 }), { nil: undefined }), cutPoints, (file, n, cuts) => {
      const want = encode(file, cuts, n);
      const { into, shared } = encodeOtherWays(file, cuts, n);
      if (into !== want) throw new Error(`encodeInto: got ${JSON.stringify(into)}\nwant ${JSON.stringify(want)}`);
      if (shared !== want) throw new Error(`encodeShared: got ${JSON.stringify(shared)}\nwant ${JSON.stringify(want)}`);
    }),
    params(300),
  );
  t.pass(`held for ${runs(300)} inputs`);
});

t.test('the JS kernel (the fallback without WebAssembly) and the WebAssembly kernel write the same bytes', { skip: wasmKernelAvailable ? false : 'no WebAssembly SIMD in this engine' }, async (t) => {
  fc.assert(
    fc.property(protocolBytes(4000), protocolByte, (chunk, prev) => {
      const js = Buffer.alloc(2 * chunk.length);
      const wasm = Buffer.alloc(2 * chunk.length);
      const a = js.subarray(0, encodeJsInto(chunk, prev, js, 0)).toString('latin1');
      const b = wasm.subarray(0, encodeWasmInto(chunk, prev, wasm, 0)).toString('latin1');
      if (a !== b) throw new Error(`prev ${prev}: js ${JSON.stringify(a)}\nwasm ${JSON.stringify(b)}`);
    }),
    params(500),
  );
  t.pass(`held for ${runs(500)} inputs`);
});

t.test('chunks longer than the WebAssembly kernel takes at once (64 KiB): same properties', async (t) => {
  // Lines that put LFs, CRs and dots on and around the 64 KiB piece boundaries.
  const piece = fc.constantFrom('\n', '\r\n', '.', '\n.', '.\r\n', 'x', '\r');
  fc.assert(
    fc.property(fc.nat({ max: 3 * 65536 }), fc.array(piece, { minLength: 1, maxLength: 8 }), fc.constantFrom('\n', '\r\n'), cutPoints, (at, inserts, eol, cuts) => {
      const line = 'a'.repeat(75) + eol;
      const base = Buffer.from(line.repeat(Math.ceil((3 * 65536 + 200) / line.length)), 'latin1');
      const middle = Buffer.from(inserts.join(''), 'latin1');
      const file = Buffer.concat([base.subarray(0, at), middle, base.subarray(at)]);
      // Big chunks: cut points scaled up, so that most chunks span a piece boundary.
      const plain = unstuff(encode(file, cuts.map((c) => c * 977)));
      if (plain !== crlfForm(file)) throw new Error(`insert ${JSON.stringify(inserts.join(''))} at ${at}: output differs from the CRLF form`);
    }),
    params(40, 0.01),
  );
  t.pass(`held for ${runs(40, 0.01)} inputs`);
});
