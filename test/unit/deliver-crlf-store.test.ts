// store_crlf: bare LF -> CRLF however the message is cut into chunks, CRLF and lone CR kept, a
// final line end added; the stored file's size is then its Z size (what RETR serves).
import fc from 'fast-check';
import t from 'tap';
import { LfToCrlf } from '../../src/deliver/crlf-store';
import { rfc822Size } from '../helpers/maildir';

function convert(chunks: readonly Buffer[]): Buffer {
  const c = new LfToCrlf();
  return Buffer.concat([...chunks.map((x) => c.push(x)), c.end()]);
}

t.test('examples', async (t) => {
  t.equal(convert([Buffer.from('a\nb\n')]).toString(), 'a\r\nb\r\n');
  t.equal(convert([Buffer.from('a\r\nb\r\n')]).toString(), 'a\r\nb\r\n', 'CRLF kept');
  t.equal(convert([Buffer.from('a\r'), Buffer.from('\nb')]).toString(), 'a\r\nb\r\n', 'a CR ending a chunk pairs with the next LF; a final line end is added');
  t.equal(convert([Buffer.from('a\rb\r')]).toString(), 'a\rb\r\r\n', 'a lone CR is kept');
  t.equal(convert([Buffer.from('\n'), Buffer.from('\n')]).toString(), '\r\n\r\n');
  t.equal(convert([]).length, 0, 'nothing in, nothing out');
  const crlf = Buffer.from('x\r\n');
  t.equal(new LfToCrlf().push(crlf), crlf, 'a chunk without bare LF comes back as it is');
});

t.test('any chunking gives the same bytes, with no bare LF, and the size is the Z size', async () => {
  const byte = fc.constantFrom(0x0d, 0x0a, 0x41, 0x2e);
  fc.assert(
    fc.property(fc.array(byte, { minLength: 1, maxLength: 200 }), fc.array(fc.nat(200), { maxLength: 8 }), (bytes, cuts) => {
      const whole = Buffer.from(bytes);
      const points = [...new Set(cuts.map((c) => Math.min(c, whole.length)))].sort((a, b) => a - b);
      const chunks = [0, ...points].map((p, i) => whole.subarray(p, [...points, whole.length][i]));
      const out = convert(chunks);
      if (!out.equals(convert([whole]))) throw new Error('chunking changed the result');
      if (/(^|[^\r])\n/.test(out.toString('latin1'))) throw new Error('a bare LF is left');
      if (rfc822Size(out) !== out.length) throw new Error('Z size differs from the file size');
      if (rfc822Size(whole) !== out.length) throw new Error('the served size changed');
    }),
  );
});
