// CRLF -> LF for the stored message, however the stream is cut into chunks, and the Z size of
// what is stored equals the octets received (RETR turns each LF back into CRLF).
import fc from 'fast-check';
import t from 'tap';
import { CrlfToLf } from '../../src/lmtp/line-ends';
import { rfc822Size } from '../helpers/maildir';

function convert(chunks: readonly Buffer[]): Buffer {
  const c = new CrlfToLf();
  return Buffer.concat([...chunks.map((x) => c.push(x)), c.end()]);
}

t.test('examples', async (t) => {
  t.equal(convert([Buffer.from('a\r\nb\r\n')]).toString(), 'a\nb\n');
  t.equal(convert([Buffer.from('a\r'), Buffer.from('\nb\r')]).toString(), 'a\nb\r', 'a CR at a chunk end pairs with the next LF; a final lone CR is kept');
  t.equal(convert([Buffer.from('a\rb\r\r\n')]).toString(), 'a\rb\r\n', 'a CR not followed by LF is kept');
  t.equal(convert([Buffer.from('\r'), Buffer.from('\r'), Buffer.from('\n')]).toString(), '\r\n');
});

t.test('any chunking gives the same bytes; the stored CRLF message keeps its size', async () => {
  const byte = fc.constantFrom(0x0d, 0x0a, 0x41, 0x2e);
  fc.assert(
    fc.property(fc.array(byte, { maxLength: 200 }), fc.array(fc.nat(200), { maxLength: 8 }), (bytes, cuts) => {
      const whole = Buffer.from(bytes);
      const points = [...new Set(cuts.map((c) => Math.min(c, whole.length)))].sort((a, b) => a - b);
      const chunks = [0, ...points].map((p, i) => whole.subarray(p, [...points, whole.length][i]));
      const out = convert(chunks);
      if (!out.equals(convert([whole]))) throw new Error('chunking changed the result');
      // A message whose lines all end in CRLF (as LMTP sends it): stored size counts as received.
      const crlf = Buffer.from(whole.toString('latin1').replace(/\r/g, '').replace(/\n/g, '\r\n') + '\r\n', 'latin1');
      if (rfc822Size(convert([crlf])) !== crlf.length) throw new Error('size changed');
    }),
  );
});
