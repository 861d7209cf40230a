// The binary PROXY header, version 2 (proxy-protocol.txt section 2.2): 16 fixed octets, the
// addresses, then TLVs, `16 + len` octets in all. Every length is checked against what is there.
import { crc32c } from './crc32c';
import { invalid, type HeaderParse, type ProxySsl, type Tlv } from './types';
import { ipv4Text, ipv6Text } from './ip-text';

export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const FIXED = 16;

const PP2_TYPE_CRC32C = 0x03;
const PP2_TYPE_SSL = 0x20;
const PP2_SUBTYPE_SSL_VERSION = 0x21;
const PP2_SUBTYPE_SSL_CIPHER = 0x23;
const PP2_CLIENT_SSL = 0x01;

/** Address block length by family: AF_UNSPEC, AF_INET, AF_INET6, AF_UNIX. */
const ADDRESS_LENGTH = [0, 12, 36, 216] as const;

export function parseV2(bytes: Buffer): HeaderParse {
  // Known from here on: the whole signature. The version must be 2 before anything else waits.
  const versionCommand = bytes[12];
  if (versionCommand === undefined) return { kind: 'incomplete' };
  if (versionCommand >> 4 !== 2) return invalid(`version ${versionCommand >> 4}, not 2`);
  const command = versionCommand & 0x0f;
  if (command > 1) return invalid(`command ${command}, neither LOCAL nor PROXY`);
  if (bytes.length < FIXED) return { kind: 'incomplete' };
  const length = FIXED + bytes.readUInt16BE(14);
  if (bytes.length < length) return { kind: 'incomplete' };
  // LOCAL: the proxy's own connection; "discard the protocol block including the family".
  if (command === 0) return { kind: 'header', header: { version: 2, command: 'local', tlvs: [] }, length };

  const familyProtocol = bytes[13] ?? 0;
  const family = familyProtocol >> 4;
  const protocol = familyProtocol & 0x0f;
  if (family > 3) return invalid(`address family ${family}`);
  if (protocol > 2) return invalid(`transport protocol ${protocol}`);
  const addressLength = ADDRESS_LENGTH[family as 0 | 1 | 2 | 3];
  if (length - FIXED < addressLength) return invalid(`${length - FIXED} octets for addresses that need ${addressLength}`);
  const header = bytes.subarray(0, length);
  const tlvs = readTlvs(header.subarray(FIXED + addressLength));
  if (typeof tlvs === 'string') return invalid(tlvs);
  const checked = checkCrc(header, FIXED + addressLength, tlvs);
  if (checked !== undefined) return invalid(checked);
  const ssl = sslOf(tlvs);
  if (typeof ssl === 'string') return invalid(ssl);
  const base = { version: 2 as const, command: 'proxy' as const, tlvs, ...(ssl === undefined ? {} : { ssl }) };
  // TCP over IPv4 or IPv6 names a client; UDP, AF_UNIX and AF_UNSPEC fall back to the
  // connection's own endpoints (the spec's UNSPEC mode).
  if (protocol !== 1 || (family !== 1 && family !== 2)) return { kind: 'header', header: base, length };
  const a = FIXED;
  const size = family === 1 ? 4 : 16;
  const text = family === 1 ? ipv4Text : ipv6Text;
  const ports = a + 2 * size;
  return {
    kind: 'header',
    header: {
      ...base,
      source: { address: text(header.subarray(a, a + size)), port: header.readUInt16BE(ports) },
      destination: { address: text(header.subarray(a + size, ports)), port: header.readUInt16BE(ports + 2) },
    },
    length,
  };
}

/** Type, 2-octet length, value; every value must fit in what is left. A string says what is wrong. */
function readTlvs(area: Buffer): Tlv[] | string {
  const tlvs: Tlv[] = [];
  let at = 0;
  while (at < area.length) {
    if (area.length - at < 3) return `a TLV cut short (${area.length - at} octets left)`;
    const type = area[at] ?? 0;
    const size = area.readUInt16BE(at + 1);
    if (at + 3 + size > area.length) return `TLV 0x${type.toString(16)} runs ${at + 3 + size - area.length} octets past the header`;
    tlvs.push({ type, value: area.subarray(at + 3, at + 3 + size) });
    at += 3 + size;
  }
  return tlvs;
}

/** PP2_TYPE_CRC32C: when the sender includes it, the receiver must verify it (section 2.2.3). */
function checkCrc(header: Buffer, tlvStart: number, tlvs: readonly Tlv[]): string | undefined {
  const crcs = tlvs.filter((t) => t.type === PP2_TYPE_CRC32C);
  if (crcs.length === 0) return undefined;
  const [crc] = crcs;
  if (crcs.length > 1 || crc === undefined) return 'more than one CRC32C TLV';
  if (crc.value.length !== 4) return `a CRC32C TLV of ${crc.value.length} octets`;
  const copy = Buffer.from(header);
  const offset = crc.value.byteOffset - header.byteOffset;
  if (offset < tlvStart) return 'a CRC32C TLV outside the TLV area';
  copy.fill(0, offset, offset + 4);
  return crc32c(copy) === crc.value.readUInt32BE(0) ? undefined : 'CRC32C checksum mismatch';
}

/** PP2_TYPE_SSL: client (1), verify (4), then sub-TLVs (version, cipher, ...). */
function sslOf(tlvs: readonly Tlv[]): ProxySsl | undefined | string {
  const tlv = tlvs.find((t) => t.type === PP2_TYPE_SSL);
  if (tlv === undefined) return undefined;
  if (tlv.value.length < 5) return `an SSL TLV of ${tlv.value.length} octets`;
  const client = tlv.value[0] ?? 0;
  const subs = readTlvs(tlv.value.subarray(5));
  if (typeof subs === 'string') return `in the SSL TLV: ${subs}`;
  const text = (type: number): string | undefined => {
    const sub = subs.find((s) => s.type === type);
    return sub === undefined ? undefined : sub.value.toString('latin1').replace(/[^\x20-\x7e]/g, '?');
  };
  const version = text(PP2_SUBTYPE_SSL_VERSION);
  const cipher = text(PP2_SUBTYPE_SSL_CIPHER);
  return {
    clientSsl: (client & PP2_CLIENT_SSL) !== 0,
    verify: tlv.value.readUInt32BE(1),
    ...(version === undefined ? {} : { version }),
    ...(cipher === undefined ? {} : { cipher }),
  };
}
