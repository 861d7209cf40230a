import t from 'tap';
import { MAX_UNIQUE_NAME_LENGTH, parseMaildirName } from '../../src/maildrop/name';

const inRange = (s: string): boolean => s.length >= 1 && s.length <= 70 && /^[\x21-\x7e]+$/.test(s);

t.test('our delivery format: Z size in upper-case hex, last in the unique part', async (t) => {
  const p = parseMaildirName('1764200000.M20412P3121Q7Z1A2B.mx1:2,S');
  t.same(p, { base: '1764200000.M20412P3121Q7Z1A2B.mx1', size: 0x1a2b, uidl: '1764200000.M20412P3121Q7.mx1' });
  t.equal(parseMaildirName('1764.M1P2Z0.mx1').size, 0, 'an empty message');
  t.equal(parseMaildirName('1764.Z10M1P2.mx1').size, 16, 'Z ends at the next standard field');
  t.equal(parseMaildirName('1764.M1P2Z10#3.mx1').size, 16, '... or at #');
  t.equal(MAX_UNIQUE_NAME_LENGTH, 70);
});

t.test('no usable size', async (t) => {
  t.same(parseMaildirName('1764.M1P2.mx1'), { base: '1764.M1P2.mx1', size: undefined, uidl: '1764.M1P2.mx1' });
  const lower = parseMaildirName('1764.M1P2Z1a2b.mx1:2,');
  t.equal(lower.size, undefined, 'lower-case hex is not a Z field (not a misread Z1)');
  t.equal(lower.uidl, '1764.M1P2Z1a2b.mx1', 'and is not cut from the uidl');
  t.equal(parseMaildirName('1764.M1P2Zq.mx1').size, undefined, 'Z without digits');
  t.equal(parseMaildirName('1764.M1P2.ZA1').size, undefined, 'Z in the host part');
  t.equal(parseMaildirName('1764.M1P2.mx.ZA1.example').size, undefined, 'Z in a dotted host part');
  t.equal(parseMaildirName('1764.M1P2.mx.ZA1.example').uidl, '1764.M1P2.mx.ZA1.example');
  t.equal(parseMaildirName('1764.M1Z10P2Z20.mx1').size, undefined, 'two Z fields: ambiguous');
  t.equal(parseMaildirName('1764.M1Z10P2Z20.mx1').uidl, '1764.M1Z10P2Z20.mx1');
  t.equal(parseMaildirName('Z10.mx1').size, undefined, 'one dot: no unique part');
  t.equal(parseMaildirName('1764.M1P2ZA1').size, undefined, 'no host part');
  t.equal(parseMaildirName('1764.M1P2Z' + 'F'.repeat(13) + '.h').size, 0xfffffffffffff, '13 digits');
  t.equal(parseMaildirName('1764.M1P2Z' + 'F'.repeat(14) + '.h').size, undefined, '14 digits');
  t.equal(parseMaildirName('1764.M1P2Z' + '0'.repeat(14) + '.h').uidl, '1764.M1P2.h', 'still cut from the uidl');
  t.equal(parseMaildirName('1764.M1P2Z1F.hôst').size, undefined, 'non-ASCII base');
});

t.test('base longer than 70: no size, uidl cut or hashed', async (t) => {
  const host = 'h'.repeat(70 - '1764.M1P2Z1F.'.length + 1); // base of 71
  const p = parseMaildirName(`1764.M1P2Z1F.${host}:2,S`);
  t.equal(p.base.length, 71);
  t.equal(p.size, undefined);
  t.equal(p.uidl, `1764.M1P2.${host}`, 'the cut name fits in 70');
  const long = parseMaildirName(`1764.M1P2Z1F.${'x'.repeat(80)}:2,S`);
  t.match(long.uidl, /^h[A-Za-z0-9_-]{39}$/);
  t.equal(long.uidl, parseMaildirName(`1764.M1P2.${'x'.repeat(80)}`).uidl, 'hash stable across Z rename and flags');
  t.not(long.uidl, parseMaildirName(`1764.M1P3.${'x'.repeat(80)}`).uidl);
});

t.test('flags and separators', async (t) => {
  const a = parseMaildirName('1764.M1P2.mx1');
  t.equal(parseMaildirName('1764.M1P2.mx1:2,').uidl, a.uidl);
  t.equal(parseMaildirName('1764.M1P2.mx1:2,RS').uidl, a.uidl);
  t.equal(parseMaildirName('1764.M1P2Z1F.mx1:2,S').uidl, a.uidl, 'unchanged by the rename that adds Z');
  t.equal(parseMaildirName('1764.M1P2.mx1:2,S:odd').base, '1764.M1P2.mx1', 'base ends at the first colon');
  t.equal(parseMaildirName('1764.M1P2.mx1;2,S').base, '1764.M1P2.mx1;2,S', '; is not a separator');
  t.same(parseMaildirName('plain'), { base: 'plain', size: undefined, uidl: 'plain' });
});

t.test('Dovecot and Courier names', async (t) => {
  const d = parseMaildirName('1700000000.M123P456.host,S=123,W=130:2,S');
  t.same(d, { base: '1700000000.M123P456.host,S=123,W=130', size: undefined, uidl: '1700000000.M123P456.host,S=123,W=130' });
  const c = parseMaildirName('1700000000.M123P456V000000000000FC03I00000000000ABCDE.host,S=1234:2,S');
  t.equal(c.size, undefined);
  t.equal(c.uidl, c.base);
});

t.test('hash fallback: deterministic, 40 chars in 0x21..0x7E', async (t) => {
  for (const name of ['1764.M1P2.hôst', '1764.M1 P2.mx1', '1764.M1\tP2.mx1', '', ':2,S', 'x'.repeat(300), '1764.\u00ff.h']) {
    const { uidl } = parseMaildirName(name);
    t.ok(inRange(uidl), JSON.stringify(name));
    t.equal(uidl.length, 40);
    t.equal(parseMaildirName(name).uidl, uidl);
  }
  t.not(parseMaildirName('1764.M1P2.hôst').uidl, parseMaildirName('1764.M1P2.hüst').uidl);
  t.equal(parseMaildirName('1764.M1P2.hôst:2,S').uidl, parseMaildirName('1764.M1P2Z10.hôst').uidl);
  t.ok(inRange(parseMaildirName('x'.repeat(70)).uidl) && parseMaildirName('x'.repeat(70)).uidl === 'x'.repeat(70), '70 is kept');
});
