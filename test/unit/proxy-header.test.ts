// The PROXY protocol parser from raw bytes (HAProxy's proxy-protocol.txt, both versions): what
// each header yields, where it ends, and every malformed, truncated or oversized form refused.
import t from 'tap';
import { parseProxyHeader, type HeaderParse } from '../../src/server/proxy-protocol/header';
import { ipv6Text, parseIpv6, unmapped } from '../../src/server/proxy-protocol/ip-text';
import { crc32c } from '../../src/server/proxy-protocol/crc32c';
import { sslTlv, tlv, v2, V2_SIGNATURE } from '../helpers/proxy-header';

const parse = (bytes: Buffer | string): HeaderParse => parseProxyHeader(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
const reason = (r: HeaderParse): string => (r.kind === 'invalid' ? r.reason : `(${r.kind})`);

t.test('v1: TCP4, TCP6, UNKNOWN; the length covers the CRLF and nothing after it', async (t) => {
  t.same(parse('PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET /'), {
    kind: 'header',
    header: { version: 1, command: 'proxy', source: { address: '192.168.0.1', port: 56324 }, destination: { address: '192.168.0.11', port: 443 }, tlvs: [] },
    length: 47,
  });
  const six = parse('PROXY TCP6 2001:DB8:0:0:0:0:0:1 ::1 0 65535\r\n');
  t.match(six, { kind: 'header', header: { source: { address: '2001:db8::1', port: 0 }, destination: { address: '::1', port: 65535 } } });
  t.same(parse('PROXY UNKNOWN\r\n'), { kind: 'header', header: { version: 1, command: 'proxy', tlvs: [] }, length: 15 });
  const longest = `PROXY UNKNOWN ${'ffff:'.repeat(7)}ffff ${'ffff:'.repeat(7)}ffff 65535 65535\r\n`;
  t.equal(longest.length, 107);
  t.match(parse(longest), { kind: 'header', length: 107 }, 'the spec worst case, 107 bytes, is read');
});

t.test('v1: prefixes wait, anything off the grammar is invalid', async (t) => {
  for (const prefix of ['P', 'PROX', 'PROXY ', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r']) {
    t.same(parse(prefix), { kind: 'incomplete' }, JSON.stringify(prefix));
  }
  const bad: Array<[string, RegExp]> = [
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n', /LF without CR/],
    ['PROXY TCP4 1.2.3.4\r5.6.7.8 1 2\r\n', /CR not followed by LF/],
    ['PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n', /not IPv4/],
    ['PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n', /not IPv4/],
    ['PROXY TCP4 ::1 5.6.7.8 1 2\r\n', /not IPv4/],
    ['PROXY TCP6 1.2.3.4 ::1 1 2\r\n', /not IPv6/],
    ['PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n', /not IPv6/],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n', /port/],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n', /port/],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n', /port/],
    ['PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n', /six fields|not IPv4/],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n', /six fields/],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n', /six fields/],
    ['PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n', /unknown protocol/],
    ['PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n', /unknown protocol/],
    ['PROXY TCP4 1.2.3.4 5.6.7.\xe9 1 2\r\n', /printable ASCII/],
    ['PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n', /not a PROXY protocol header/],
    ['USER alice\r\n', /not a PROXY protocol header/],
    [`PROXY UNKNOWN ${'x'.repeat(93)}`, /no CRLF within 107 bytes/],
  ];
  for (const [text, why] of bad) t.match(reason(parse(text)), why, JSON.stringify(text));
  t.equal(reason(parse(`PROXY UNKNOWN ${'x'.repeat(92)}`)), '(incomplete)', '106 bytes without CRLF still wait');
});

t.test('v2: TCP over IPv4 and IPv6, LOCAL, UNSPEC, UNIX, UDP', async (t) => {
  const four = v2({ source: { address: '203.0.113.7', port: 40000 }, destination: { address: '10.0.0.1', port: 110 } });
  t.same(parse(Buffer.concat([four, Buffer.from('+OK')])), {
    kind: 'header',
    header: { version: 2, command: 'proxy', tlvs: [], source: { address: '203.0.113.7', port: 40000 }, destination: { address: '10.0.0.1', port: 110 } },
    length: 28,
  });
  t.match(parse(v2({ source: { address: '2001:db8::7', port: 1 }, destination: { address: '2001:db8::1', port: 995 } })), {
    header: { source: { address: '2001:db8::7', port: 1 }, destination: { address: '2001:db8::1', port: 995 } },
    length: 52,
  });
  const local = v2({ command: 'local' });
  t.same(parse(local), { kind: 'header', header: { version: 2, command: 'local', tlvs: [] }, length: 16 });
  // LOCAL must be accepted whatever its block says; the length still says where it ends.
  const localWithBlock = v2({ command: 'local', source: { address: '10.0.0.1', port: 1 }, familyByte: 0xff });
  t.same(parse(localWithBlock), { kind: 'header', header: { version: 2, command: 'local', tlvs: [] }, length: 28 });
  t.same(parse(v2({ familyByte: 0x00 })), { kind: 'header', header: { version: 2, command: 'proxy', tlvs: [] }, length: 16 }, 'PROXY UNSPEC: no client');
  const unix = Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x31, 0x00, 216]), Buffer.alloc(216, 0x2f)]);
  t.same(parse(unix), { kind: 'header', header: { version: 2, command: 'proxy', tlvs: [] }, length: 232 }, 'AF_UNIX: no client');
  const udp = v2({ source: { address: '203.0.113.7', port: 53 }, familyByte: 0x12 });
  t.notOk((parse(udp) as { header?: { source?: unknown } }).header?.source, 'UDP: no client (this is a TCP server)');
});

t.test('v2: every prefix waits; fields out of range are invalid', async (t) => {
  const whole = v2({ source: { address: '203.0.113.7', port: 1 }, tlvs: [sslTlv('TLSv1.3')], crc: 'right' });
  for (let n = 1; n < whole.length; n++) t.equal(parse(whole.subarray(0, n)).kind, 'incomplete', `${n} of ${whole.length} bytes`);
  t.equal(parse(whole).kind, 'header');
  const patched = (at: number, byte: number): Buffer => {
    const copy = Buffer.from(v2({ source: { address: '203.0.113.7', port: 1 } }));
    copy[at] = byte;
    return copy;
  };
  t.match(reason(parse(patched(12, 0x11))), /version 1, not 2/);
  t.match(reason(parse(patched(12, 0x22))), /command 2/);
  t.match(reason(parse(patched(13, 0x41))), /address family 4/);
  t.match(reason(parse(patched(13, 0x13))), /transport protocol 3/);
  t.match(reason(parse(patched(11, 0x0b))), /not a PROXY protocol header/);
  t.match(reason(parse(patched(12, 0x11).subarray(0, 13))), /version 1/, 'a wrong version is refused before the rest arrives');
  const short = Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x11, 0x00, 11]), Buffer.alloc(11)]);
  t.match(reason(parse(short)), /11 octets for addresses that need 12/);
  const short6 = Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x21, 0x00, 12]), Buffer.alloc(12)]);
  t.match(reason(parse(short6)), /12 octets for addresses that need 36/);
});

t.test('v2 TLVs: read in order, bounds checked, SSL and CRC32C understood', async (t) => {
  const source = { address: '203.0.113.7', port: 1 };
  const withTlvs = parse(v2({ source, tlvs: [{ type: 0x05, value: Buffer.from('id-1') }, { type: 0x04, value: Buffer.alloc(0) }] }));
  t.match(withTlvs, { header: { tlvs: [{ type: 5, value: Buffer.from('id-1') }, { type: 4, value: Buffer.alloc(0) }] } });
  t.match(parse(v2({ source, tlvs: [sslTlv('TLSv1.3', 'TLS_AES_256_GCM_SHA384')] })), {
    header: { ssl: { clientSsl: true, verify: 0, version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' } },
  });
  t.match(parse(v2({ source, tlvs: [sslTlv('TLSv1.2', undefined, 0x00)] })), { header: { ssl: { clientSsl: false } } });
  t.equal(parse(v2({ source, crc: 'right' })).kind, 'header');
  t.match(reason(parse(v2({ source, crc: 'wrong' }))), /CRC32C checksum mismatch/);
  t.match(reason(parse(v2({ source, tlvs: [{ type: 0x03, value: Buffer.alloc(3) }] }))), /CRC32C TLV of 3 octets/);
  t.match(reason(parse(v2({ source, tlvs: [{ type: 0x03, value: Buffer.alloc(4) }], crc: 'right' }))), /more than one CRC32C/);
  t.match(reason(parse(v2({ source, tlvs: [{ type: 0x20, value: Buffer.alloc(4) }] }))), /SSL TLV of 4 octets/);
  const badSub = Buffer.concat([Buffer.from([1, 0, 0, 0, 0]), tlv(0x21, Buffer.from('TLSv1.3')).subarray(0, 5)]);
  t.match(reason(parse(v2({ source, tlvs: [{ type: 0x20, value: badSub }] }))), /in the SSL TLV: TLV 0x21 runs/);
  // A TLV that claims more than the header holds, and one cut after its type.
  const overrun = Buffer.from(v2({ source, tlvs: [{ type: 0x05, value: Buffer.from('abc') }] }));
  overrun.writeUInt16BE(10, overrun.length - 5);
  t.match(reason(parse(overrun)), /TLV 0x5 runs 7 octets past the header/);
  const cut = Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x11, 0x00, 14]), Buffer.alloc(12), Buffer.from([0x05, 0x00])]);
  t.match(reason(parse(cut)), /TLV cut short \(2 octets left\)/);
});

t.test('v2 at its size limit: 16 + 65535 octets', async (t) => {
  const big = v2({ source: { address: '203.0.113.7', port: 1 }, tlvs: [{ type: 0x04, value: Buffer.alloc(65535 - 12 - 3) }] });
  t.equal(big.length, 16 + 65535);
  t.match(parse(big), { kind: 'header', length: 65551 });
  t.equal(parse(big.subarray(0, 65550)).kind, 'incomplete');
});

t.test('addresses: RFC 5952 text, strict parsing, IPv4-mapped folded', async (t) => {
  const cases: Array<[string, string]> = [
    ['::', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['64:ff9b::192.0.2.1', '64:ff9b::c000:201'],
  ];
  for (const [input, canonical] of cases) t.equal(ipv6Text(parseIpv6(input) ?? Buffer.alloc(0)), canonical, input);
  for (const wrong of ['1.2.3.4', '1::2::3', ':::', 'fe80::1%1', '::ffff:1.2.3.04', 'g::1', '']) t.equal(parseIpv6(wrong), undefined, wrong);
  t.equal(unmapped('::ffff:203.0.113.7'), '203.0.113.7');
  t.equal(unmapped('::FFFF:203.0.113.7'), '203.0.113.7');
  t.equal(unmapped('2001:db8::7'), '2001:db8::7');
  t.equal(crc32c(Buffer.from('123456789')), 0xe3069283, 'the CRC32c check value (RFC 3720 B.4)');
});
