import t from 'tap';
import { LineReader, type LineEvent } from '../../src/pop3/line-reader';

function drain(reader: LineReader): Array<string | 'too-long'> {
  const out: Array<string | 'too-long'> = [];
  for (let e: LineEvent | undefined = reader.next(); e !== undefined; e = reader.next()) {
    out.push(e.kind === 'line' ? e.line.toString('latin1') : 'too-long');
  }
  return out;
}

t.test('splits CRLF and bare LF lines, keeps partial lines across chunks', async (t) => {
  const r = new LineReader();
  r.push(Buffer.from('USER a\r\nPA'));
  t.same(drain(r), ['USER a']);
  r.push(Buffer.from('SS b\r'));
  t.same(drain(r), []);
  r.push(Buffer.from('\nSTAT\nNOOP\r\n\r\n'));
  t.same(drain(r), ['PASS b', 'STAT', 'NOOP', '']);
});

t.test('a line of exactly 255 octets with CRLF is accepted; 256 is too long', async (t) => {
  const r = new LineReader();
  const ok = 'X'.repeat(253);
  r.push(Buffer.from(ok + '\r\n' + 'Y'.repeat(254) + '\r\nNOOP\r\n'));
  t.same(drain(r), [ok, 'too-long', 'NOOP']);
});

t.test('an endless line is dropped as it arrives and reported once at its end', async (t) => {
  const r = new LineReader();
  for (let i = 0; i < 100; i++) r.push(Buffer.alloc(1000, 0x41));
  t.equal(r.queued, 0);
  r.push(Buffer.from('\r\nSTAT\r\n'));
  t.same(drain(r), ['too-long', 'STAT']);
});

t.test('bytes are copied: reusing the pushed buffer does not change a partial line', async (t) => {
  const r = new LineReader();
  const chunk = Buffer.from('USER x');
  r.push(chunk);
  chunk.fill(0x5a);
  r.push(Buffer.from('y\r\n'));
  t.same(drain(r), ['USER xy']);
});

t.test('bare-LF line of 254 octets is too long (limit counts CRLF)', async (t) => {
  const r = new LineReader();
  r.push(Buffer.from('Z'.repeat(254) + '\n'));
  t.same(drain(r), ['too-long']);
});
