// The parsers of other servers' files and Dovecot's pop3_uidl_format, against what those
// servers' own code reads and sends (Dovecot 2.3.19 maildir-uidlist.c / var-expand.c /
// pop3-commands.c, courier-imap pop3dserver.c / imapscanclient.C).
import { createHash } from 'node:crypto';
import t from 'tap';
import { courierUidl, parseImapUidDb, parseSizelist } from '../../src/maildir-tools/uidl-sources/courier';
import { compileUidlFormat, DOVECOT_DEFAULT_FORMAT, UidlFormatError } from '../../src/maildir-tools/uidl-sources/dovecot-format';
import { parseUidlist, UidlistError } from '../../src/maildir-tools/uidl-sources/dovecot-uidlist';
import { xuidlOfHeader } from '../../src/maildir-tools/uidl-sources/xuidl';

t.test('dovecot-uidlist version 3: header fields, record fields, base names', async (t) => {
  const list = parseUidlist(
    [
      '3 V1275660208 N25022 G3085f01b7f11094c501100008c4a11c1',
      '25006 :1276528487.M364837P9451.kurkku,S=1355,W=1394:2,',
      '25017 W2481 S2400 :1276533073.M242911P3632.kurkku:2,F',
      '25018 P00001234-migrated G0123abcd O7 :1276533074.M1P2.kurkku',
      '25019 P :1276533075.M1P2.kurkku',
      '',
    ].join('\n'),
  );
  t.equal(list.version, 3);
  t.equal(list.uidValidity, 1275660208);
  t.equal(list.nextUid, 25022);
  t.same(list.records.map((r) => [r.uid, r.base]), [
    [25006, '1276528487.M364837P9451.kurkku,S=1355,W=1394'],
    [25017, '1276533073.M242911P3632.kurkku'],
    [25018, '1276533074.M1P2.kurkku'],
    [25019, '1276533075.M1P2.kurkku'],
  ]);
  t.same([...list.records[1]!.fields], [['W', '2481'], ['S', '2400']]);
  t.equal(list.records[2]!.fields.get('P'), '00001234-migrated');
  t.equal(list.records[2]!.fields.get('G'), '0123abcd');
  t.equal(list.records[3]!.fields.get('P'), '', 'an empty P: the base name (Dovecot\'s optimisation)');
});

t.test('dovecot-uidlist version 1 (and Courier-compatible): a file moved back takes the later UID', async (t) => {
  const list = parseUidlist('1 1275660208 10\n3 1700000000.M1P2.h\n5 1700000001.M1P2.h:2,S\n7 1700000000.M1P2.h:2,S\n');
  t.equal(list.version, 1);
  t.same(list.records.map((r) => [r.uid, r.base]), [[5, '1700000001.M1P2.h'], [7, '1700000000.M1P2.h']]);
});

t.test('dovecot-uidlist: what Dovecot calls corrupted (and would renumber) is refused, line named', async (t) => {
  const bad: Array<[string, RegExp]> = [
    ['', /line 1: empty file/],
    ['2 1 2\n', /line 1: unsupported version 2/],
    ['x\n', /line 1: no version number/],
    ['3 V0 N5\n', /line 1: broken header/],
    ['1 5\n', /line 1: version 1 header/],
    ['3 V1 N9\n5 :a.b.c\n4 :d.e.f\n', /line 3: UIDs not ordered \(4 after 5\)/],
    ['1 1 5\n5 a.b.c\n', /line 2: UID 5 not below the next UID 5/],
    ['3 V1 N9\n5 X1 :a.b.c\n', /line 2: unknown field "X1"/],
    ['3 V1 N9\n5 :cur/a.b.c\n', /line 2: broken filename/],
    ['3 V1 N9\n5 W12\n', /line 2: no filename/],
    ['3 V1 N9\nabc :a.b.c\n', /line 2: not "<uid> \.\.\."/],
    ['3 V1 N9\n0 :a.b.c\n', /line 2: invalid UID 0/],
    ['3 V1 N9\n99999999999 :a.b.c\n', /line 2: invalid UID/],
  ];
  for (const [text, message] of bad) t.throws(() => parseUidlist(text), { name: 'UidlistError', message }, JSON.stringify(text));
  t.type(new UidlistError(3, 'x'), Error);
});

t.test("pop3_uidl_format: Dovecot's default is lower-case hex, zero-padded", async (t) => {
  const expand = compileUidlFormat(DOVECOT_DEFAULT_FORMAT);
  t.equal(expand({ uid: 1, uidValidity: 1796195557, filename: 'f', guid: 'g' }), '000000016b0fc4e5', 'as Debian\'s Dovecot 2.3.19 served it');
  t.equal(expand({ uid: 0x123456789, uidValidity: 0, filename: 'f', guid: 'g' }), '12345678900000000', 'padding never truncates');
});

t.test('pop3_uidl_format: every variable, modifier, width and offset', async (t) => {
  const values = { uid: 255, uidValidity: 1234, filename: '1700000000.M1P2.host,S=10', guid: 'Gu1d' };
  const cases: Array<[string, string]> = [
    ['%u.%v', '255.1234'],
    ['%Xu-%Xv', 'ff-4d2'],
    ['%08XUu', '000000FF'],
    ['%f', '1700000000.M1P2.host,S=10'],
    ['%g', 'Gu1d'],
    ['%v%f', '12341700000000.M1P2.host,S=10'],
    ['%3u%4f', '2551700'],
    ['%2.3f', '000'],
    ['%-3.2f%u', '=1255'],
    ['%Rv', '4321'],
    ['%Lg%Ug', 'gu1dGU1D'],
    ['%Mu', createHash('md5').update('255').digest('hex')],
    ['100%% %u', '100% 255'],
    ['%%u %v', '%u 1234'],
    ['%05u', '00255'],
    ['%Tg', 'Gu1d'],
    ['%u%', '255'],
  ];
  for (const [format, want] of cases) t.equal(compileUidlFormat(format)(values), want, format);
});

t.test('pop3_uidl_format: what Dovecot refuses or cannot serve from a maildir', async (t) => {
  const refused: Array<[string, RegExp]> = [
    ['%{uid}', /%\{ is not a pop3_uidl_format variable: Dovecot 2.3 refuses the setting/],
    ['%u%{uid}', /Unknown pop3_uidl_format variable: %\{/],
    ['plain', /has none of/],
    ['%m', /%m \(header MD5\) exists for mbox only/],
    ['%u%x', /%x is not a pop3_uidl_format variable/],
    ['%Hu', /modifier %H is not supported/],
  ];
  for (const [format, message] of refused) t.throws(() => compileUidlFormat(format), { name: 'UidlFormatError', message }, format);
  t.type(new UidlFormatError('x'), Error);
});

t.test('courierpop3dsizelist: versions 2 and 3, names with spaces, Courier\'s UIDL rule', async (t) => {
  const list = parseSizelist(['/3 12 1796194750', '1700000000.M1P1.host:2,S 21 1:1796194750:0', 'odd name with spaces:2, 22 2:1796194750:1', 'broken line', '1700000002.M1P1.host 5 3:0:0', '1700000003.M1 n+"\'.h 5 0:0:0', ''].join('\n'));
  t.equal(list.version, 3);
  t.same(list.records.map(courierUidl), ['UID1-1796194750', 'UID2-1796194750', 'UID3', '1700000003.M1+20n+2B+22+27.h']);
  t.same(list.records.map((r) => r.base), ['1700000000.M1P1.host', 'odd name with spaces', '1700000002.M1P1.host', '1700000003.M1 n+"\'.h']);
  t.same(parseSizelist('/2 3 99\nname 10 2:99\n').records.map(courierUidl), ['UID2-99'], 'version 2: no utf8 field');
  t.throws(() => parseSizelist('/1 3 99\nname 10\n'), /Courier would number every message anew/);
  t.throws(() => parseSizelist('3 99\n'), /courierpop3dsizelist/);
});

t.test('courierimapuiddb: version 1, base names', async (t) => {
  const db = parseImapUidDb('1 1700000000 4\n1 1700000000.M1P1.host\n3 1700000002.M1P1.host:2,S\nnot a line\n');
  t.equal(db.uidValidity, 1700000000);
  t.equal(db.nextUid, 4);
  t.same(db.records, [{ uid: 1, base: '1700000000.M1P1.host' }, { uid: 3, base: '1700000002.M1P1.host' }]);
  t.throws(() => parseImapUidDb('2 1 2\n'), /courierimapuiddb/);
});

t.test('X-UIDL: the first field of the header, as Dovecot serves it', async (t) => {
  const of = (text: string): string | undefined => xuidlOfHeader(Buffer.from(text));
  t.equal(of('Subject: a\nX-UIDL:   abc\nX-UIDL: second\n\nbody'), 'abc');
  t.equal(of('x-uidl : Kept/By:x=3  \r\n\r\n'), 'Kept/By:x=3', 'any case, space before the colon, trailing space dropped');
  t.equal(of('Subject: a\n\nX-UIDL: in the body\n'), undefined, 'the body is not searched');
  t.equal(of('X-UIDL:\n\tfolded\n\n'), '\n\tfolded', 'a folded value keeps its line break (Dovecot serves it so: invalid)');
  t.equal(of('Subject: no\n'), undefined);
});
