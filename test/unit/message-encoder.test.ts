import t from 'tap';
import { MessageEncoder } from '../../src/pop3/message-encoder';
import { Rfc822SizeCounter } from '../../src/maildrop/rfc822-size';

function encode(input: Buffer, bodyLines?: number, split?: number[]): string {
  const enc = new MessageEncoder(bodyLines);
  const parts: Buffer[] = [];
  let pos = 0;
  for (const cut of [...(split ?? []), input.length]) {
    parts.push(enc.encode(input.subarray(pos, cut)));
    pos = cut;
    if (enc.done) break;
  }
  parts.push(enc.end());
  return Buffer.concat(parts).toString('latin1');
}

const b = (s: string) => Buffer.from(s, 'latin1');

t.test('LF becomes CRLF, CRLF is kept, dots are stuffed, terminator added', async (t) => {
  t.equal(encode(b('a\nb\r\n.\n..x\n')), 'a\r\nb\r\n..\r\n...x\r\n.\r\n');
});

t.test('a missing final newline gets a CRLF before the terminator', async (t) => {
  t.equal(encode(b('a\n.b')), 'a\r\n..b\r\n.\r\n');
  t.equal(encode(b('')), '.\r\n');
  t.equal(encode(b('x\r')), 'x\r\r\n.\r\n');
});

t.test('every chunk split gives the same bytes', async (t) => {
  const input = b('From: a\r\n.Subject: b\n\r\n.\n.\r\nline\r\n..\nlast');
  const whole = encode(input);
  for (let i = 0; i <= input.length; i++) {
    for (const top of [undefined, 0, 1, 2]) {
      t.equal(encode(input, top, [i]), encode(input, top), `split at ${i}, top ${top}`);
    }
  }
  t.equal(whole, 'From: a\r\n..Subject: b\r\n\r\n..\r\n..\r\nline\r\n...\r\nlast\r\n.\r\n');
});

t.test('TOP n sends the header, the blank line and n body lines', async (t) => {
  const msg = b('H1: a\nH2: b\n\nbody1\n.body2\nbody3\n');
  t.equal(encode(msg, 0), 'H1: a\r\nH2: b\r\n\r\n.\r\n');
  t.equal(encode(msg, 2), 'H1: a\r\nH2: b\r\n\r\nbody1\r\n..body2\r\n.\r\n');
  t.equal(encode(msg, 99), encode(msg));
  t.equal(encode(b('H: only header, no body'), 0), 'H: only header, no body\r\n.\r\n');
  t.equal(encode(b('H: x\r\n\r\nb1\r\nb2\r\n'), 1), 'H: x\r\n\r\nb1\r\n.\r\n');
});

t.test('un-stuffed output length equals the rfc822 size the name carries', async (t) => {
  const samples = ['a\nb\r\n.\n', 'no newline', '', '\r\r\n\n', '.\n..\n...', 'x\r', 'mixed\r\nline\nends\r\n'];
  for (const s of samples) {
    const wire = encode(b(s));
    const unstuffed = wire.slice(0, -3).split('\r\n').map((l) => (l.startsWith('.') ? l.slice(1) : l)).join('\r\n');
    const counter = new Rfc822SizeCounter();
    counter.push(b(s));
    t.equal(Buffer.byteLength(unstuffed, 'latin1'), counter.size, JSON.stringify(s));
  }
});

t.test('encodeInto writes at the offset into a reused buffer, and refuses one too small', async (t) => {
  const out = Buffer.alloc(64, 0x55);
  const enc = new MessageEncoder();
  const n = enc.encodeInto(b('.a\nb'), out, 3);
  t.equal(out.toString('latin1', 0, 3 + n + 1), 'UUU..a\r\nbU');
  t.equal(enc.encodeInto(b('\n'), out, 0), 2);
  t.equal(out.toString('latin1', 0, 2), '\r\n');
  t.equal(enc.end().toString('latin1'), '.\r\n');
  t.throws(() => new MessageEncoder().encodeInto(b('abc'), Buffer.alloc(5)), RangeError);
  t.equal(MessageEncoder.maxEncodedLength(2), 4, '".\\n" -> "..\\r\\n"');
});

t.test('encodeShared returns a chunk already in wire form itself, and encodes any other', async (t) => {
  const wire = b('From: a\r\n\r\nbody\r\n');
  const enc = new MessageEncoder();
  t.equal(enc.encodeShared(wire), wire, 'no copy: the same Buffer');
  const dotted = b('.x\r\n');
  t.not(enc.encodeShared(dotted), dotted, 'a line starting with "." needs stuffing');
  t.equal(enc.end().toString('latin1'), '.\r\n');
  const bare = new MessageEncoder();
  t.equal(bare.encodeShared(b('a\nb')).toString('latin1'), 'a\r\nb');
  t.equal(new MessageEncoder(0).encodeShared(b('H: x\n\nbody\n')).toString('latin1'), 'H: x\r\n\r\n');
});
