// Property-based tests of the PROXY protocol parser (fast-check): every header a proxy can write,
// followed by anything, reads back as written and ends where it should; every shorter prefix
// waits; any bytes at all, or a valid header with a byte changed, never throw and never yield a
// header that claims more bytes than there are. RFC 5952 text is checked against WHATWG's.
import t from 'tap';
import fc from 'fast-check';
import { parseProxyHeader } from '../../src/server/proxy-protocol/header';
import { ipv6Text, parseIpv6 } from '../../src/server/proxy-protocol/ip-text';
import { params, protocolBytes } from '../helpers/fuzz';
import { sslTlv, v1, v2, V2_SIGNATURE } from '../helpers/proxy-header';

const ipv4 = fc.ipV4();
const ipv6Bytes = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => Buffer.from(a));
const ipv6 = fc.oneof(ipv6Bytes.map(ipv6Text), fc.ipV6().filter((a) => parseIpv6(a) !== undefined));
const port = fc.integer({ min: 0, max: 65535 });
const tlvArb = fc.oneof(
  fc.record({ type: fc.integer({ min: 0x01, max: 0xff }).filter((n) => n !== 0x03 && n !== 0x20), value: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)) }),
  fc.tuple(fc.constantFrom('TLSv1.2', 'TLSv1.3'), fc.option(fc.constantFrom('TLS_AES_128_GCM_SHA256', 'ECDHE-RSA-AES128-GCM-SHA256'), { nil: undefined }), fc.integer({ min: 0, max: 7 })).map(
    ([version, cipher, client]) => sslTlv(version, cipher, client),
  ),
);

interface Written {
  readonly bytes: Buffer;
  readonly source?: { address: string; port: number };
  readonly local: boolean;
}

const written: fc.Arbitrary<Written> = fc.oneof(
  fc.tuple(fc.oneof(ipv4, ipv6), fc.oneof(ipv4, ipv6), port, port).map(([s, d, sp, dp]) => {
    // v1 needs one family for both addresses: the destination follows the source's.
    const dest = s.includes(':') === d.includes(':') ? d : s;
    const source = { address: s.includes(':') ? ipv6Text(parseIpv6(s) ?? Buffer.alloc(16)) : s, port: sp };
    return { bytes: v1(s, sp, dest, dp), source, local: false };
  }),
  fc.tuple(fc.oneof(ipv4, ipv6), port, fc.array(tlvArb, { maxLength: 4 }), fc.boolean()).map(([s, sp, tlvs, crc]) => {
    const source = { address: s.includes(':') ? ipv6Text(parseIpv6(s) ?? Buffer.alloc(16)) : s, port: sp };
    return { bytes: v2({ source, tlvs, ...(crc ? { crc: 'right' as const } : {}) }), source, local: false };
  }),
  fc.array(tlvArb, { maxLength: 3 }).map((tlvs) => ({ bytes: v2({ command: 'local', tlvs }), local: true })),
  fc.constant({ bytes: Buffer.from('PROXY UNKNOWN\r\n'), local: false }),
);

t.test('a header as written reads back, whatever follows it, and ends where it was written to', async (t) => {
  fc.assert(
    fc.property(written, protocolBytes(200), (w, after) => {
      const result = parseProxyHeader(Buffer.concat([w.bytes, after]));
      if (result.kind !== 'header') throw new Error(`not read: ${JSON.stringify(result)}`);
      if (result.length !== w.bytes.length) throw new Error(`length ${result.length}, written ${w.bytes.length}`);
      if (result.header.command !== (w.local ? 'local' : 'proxy')) throw new Error('command');
      if (JSON.stringify(result.header.source) !== JSON.stringify(w.source)) throw new Error(`source ${JSON.stringify(result.header.source)}`);
    }),
    params(300),
  );
  t.pass();
});

t.test('every strict prefix of a header waits for more', async (t) => {
  fc.assert(
    fc.property(written, fc.nat(), (w, n) => {
      const cut = n % w.bytes.length;
      const result = parseProxyHeader(w.bytes.subarray(0, cut));
      if (cut === 0) return result.kind === 'invalid'; // nothing at all is no header (the reader waits before parsing)
      if (result.kind !== 'incomplete') throw new Error(`${cut} of ${w.bytes.length}: ${JSON.stringify(result)}`);
      return true;
    }),
    params(300),
  );
  t.pass();
});

/** Whatever the bytes: no throw, and a header found ends inside them and reads the same alone. */
function consistent(bytes: Buffer): boolean {
  const result = parseProxyHeader(bytes);
  if (result.kind !== 'header') return true;
  if (result.length < 15 || result.length > bytes.length || result.length > 16 + 65535) return false;
  const alone = parseProxyHeader(bytes.subarray(0, result.length));
  return alone.kind === 'header' && JSON.stringify(alone.header) === JSON.stringify(result.header);
}

t.test('any bytes, starting like a header or not: no throw, consistent results', async (t) => {
  const starts = fc.constantFrom(Buffer.alloc(0), Buffer.from('PROXY '), Buffer.from('PROXY TCP4 '), Buffer.from('PROXY TCP6 '), V2_SIGNATURE, Buffer.concat([V2_SIGNATURE, Buffer.from([0x21])]));
  fc.assert(fc.property(starts, protocolBytes(300), (start, rest) => consistent(Buffer.concat([start, rest]))), params(500));
  fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => consistent(Buffer.from(bytes))), params(300));
  t.pass();
});

t.test('a valid header with bytes changed: no throw, consistent results', async (t) => {
  fc.assert(
    fc.property(written, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (w, changes) => {
      const bytes = Buffer.from(w.bytes);
      for (const [at, value] of changes) bytes[at % bytes.length] = value;
      return consistent(bytes);
    }),
    params(500),
  );
  t.pass();
});

t.test('IPv6 text: RFC 5952 as WHATWG URL writes it, and back to the same 16 octets', async (t) => {
  fc.assert(
    fc.property(ipv6Bytes, (bytes) => {
      const text = ipv6Text(bytes);
      const back = parseIpv6(text);
      if (back === undefined || !back.equals(bytes)) throw new Error(`${text} does not read back`);
      const mapped = bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
      if (!mapped && new URL(`http://[${text}]/`).hostname !== `[${text}]`) throw new Error(`${text} is not canonical`);
      return true;
    }),
    params(1000),
  );
  t.pass();
});
