// The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2), parsed from the
// first bytes of a connection. Pure: bytes in, a header (and how many bytes it took) out. The
// npm parsers looked at (proxy-protocol-js, @balena/proxy-protocol-parser) read no TLVs, ignore
// v2's length field or the LOCAL command, and are unmaintained: this file and v2.ts replace them.
import { isStrictIpv4, parseIpv6, ipv6Text } from './ip-text';
import { invalid, type HeaderParse } from './types';
import { parseV2, V2_SIGNATURE } from './v2';

export type { Endpoint, HeaderParse, ProxyHeader, ProxySsl, Tlv } from './types';

const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** The longest v1 line, CRLF included ("PROXY UNKNOWN" with two full IPv6 addresses). */
export const V1_MAX_LENGTH = 107;
const PORT = /^(?:0|[1-9][0-9]{0,4})$/;

/**
 * Reads the header at the start of `bytes`. `incomplete`: so far a valid beginning, wait for
 * more; `invalid`: drop the connection (the spec forbids guessing that no header was sent).
 */
export function parseProxyHeader(bytes: Buffer): HeaderParse {
  if (startsLike(bytes, V2_SIGNATURE)) return bytes.length < V2_SIGNATURE.length ? { kind: 'incomplete' } : parseV2(bytes);
  if (startsLike(bytes, V1_PREFIX)) return bytes.length < V1_PREFIX.length ? { kind: 'incomplete' } : parseV1(bytes);
  return { kind: 'invalid', reason: 'not a PROXY protocol header' };
}

/** The bytes so far agree with `prefix` (all of it, or as many as there are). */
function startsLike(bytes: Buffer, prefix: Buffer): boolean {
  const n = Math.min(bytes.length, prefix.length);
  return bytes.length > 0 && bytes.subarray(0, n).equals(prefix.subarray(0, n));
}

function parseV1(bytes: Buffer): HeaderParse {
  const window = bytes.subarray(0, V1_MAX_LENGTH);
  const lf = window.indexOf(0x0a);
  const cr = window.indexOf(0x0d);
  // A lone CR or LF never ends the line (section 2.1).
  if (cr !== -1 && cr + 1 < window.length && window[cr + 1] !== 0x0a) return invalid('a CR not followed by LF');
  if (lf === -1) return window.length >= V1_MAX_LENGTH ? invalid(`no CRLF within ${V1_MAX_LENGTH} bytes`) : { kind: 'incomplete' };
  if (cr !== lf - 1) return invalid('a LF without CR');
  const line = window.subarray(0, cr).toString('latin1');
  if (!/^[\x20-\x7e]*$/.test(line)) return invalid('bytes that are not printable ASCII');
  const parts = line.split(' ');
  const length = lf + 1;
  // UNKNOWN: "the receiver must ignore anything presented before the CRLF".
  if (parts[1] === 'UNKNOWN') return { kind: 'header', header: { version: 1, command: 'proxy', tlvs: [] }, length };
  const [, family, source, destination, sourcePort, destinationPort, extra] = parts;
  if (family !== 'TCP4' && family !== 'TCP6') return invalid(`unknown protocol ${JSON.stringify(family ?? '')}`);
  if (destinationPort === undefined || extra !== undefined) return invalid('not six fields separated by single spaces');
  const src = v1Address(family, source ?? '');
  const dst = v1Address(family, destination ?? '');
  if (src === undefined || dst === undefined) return invalid(`an address that is not ${family === 'TCP4' ? 'IPv4' : 'IPv6'}`);
  const srcPort = v1Port(sourcePort ?? '');
  const dstPort = v1Port(destinationPort);
  if (srcPort === undefined || dstPort === undefined) return invalid('a port that is not 0-65535 (without leading zeros)');
  return {
    kind: 'header',
    header: { version: 1, command: 'proxy', source: { address: src, port: srcPort }, destination: { address: dst, port: dstPort }, tlvs: [] },
    length,
  };
}

function v1Address(family: 'TCP4' | 'TCP6', text: string): string | undefined {
  if (family === 'TCP4') return isStrictIpv4(text) ? text : undefined;
  const bytes = parseIpv6(text);
  return bytes === undefined ? undefined : ipv6Text(bytes);
}

function v1Port(text: string): number | undefined {
  if (!PORT.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}
