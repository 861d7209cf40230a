// PROXY protocol headers as a proxy writes them (HAProxy's proxy-protocol.txt), for tests: the
// model the parser is checked against, and what test clients send before POP3.
import { connect as tcpConnect, isIPv4 } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { crc32c } from '../../src/server/proxy-protocol/crc32c';
import { parseIpv6 } from '../../src/server/proxy-protocol/ip-text';
import { LineSocket } from './line-socket';
import { Pop3Client } from './pop3-client';

export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

export function v1(source: string, sourcePort: number, destination = '127.0.0.1', destinationPort = 110): Buffer {
  const family = isIPv4(source) ? 'TCP4' : 'TCP6';
  return Buffer.from(`PROXY ${family} ${source} ${destination} ${sourcePort} ${destinationPort}\r\n`, 'latin1');
}

export interface V2Options {
  readonly command?: 'local' | 'proxy';
  /** Raw family/protocol byte; by default from the source address (0x11 TCP4, 0x21 TCP6). */
  readonly familyByte?: number;
  readonly source?: { readonly address: string; readonly port: number };
  readonly destination?: { readonly address: string; readonly port: number };
  readonly tlvs?: ReadonlyArray<{ readonly type: number; readonly value: Buffer }>;
  /** Append a CRC32C TLV with the right checksum (or `wrong` to corrupt it). */
  readonly crc?: 'right' | 'wrong';
}

export function tlv(type: number, value: Buffer): Buffer {
  const head = Buffer.alloc(3);
  head[0] = type;
  head.writeUInt16BE(value.length, 1);
  return Buffer.concat([head, value]);
}

/** PP2_TYPE_SSL with PP2_CLIENT_SSL and version (and cipher) sub-TLVs, as send-proxy-v2-ssl writes it. */
export function sslTlv(version: string, cipher?: string, client = 0x01): { type: number; value: Buffer } {
  const fixed = Buffer.alloc(5);
  fixed[0] = client;
  const subs = [tlv(0x21, Buffer.from(version, 'latin1')), ...(cipher === undefined ? [] : [tlv(0x23, Buffer.from(cipher, 'latin1'))])];
  return { type: 0x20, value: Buffer.concat([fixed, ...subs]) };
}

function addressBytes(address: string): Buffer {
  if (isIPv4(address)) return Buffer.from(address.split('.').map(Number));
  const bytes = parseIpv6(address);
  if (bytes === undefined) throw new Error(`not an address: ${address}`);
  return bytes;
}

export function v2(options: V2Options = {}): Buffer {
  const command = options.command ?? 'proxy';
  let addresses = Buffer.alloc(0);
  let familyByte = options.familyByte ?? 0x00;
  if (options.source !== undefined) {
    const destination = options.destination ?? { address: isIPv4(options.source.address) ? '127.0.0.1' : '::1', port: 110 };
    const ports = Buffer.alloc(4);
    ports.writeUInt16BE(options.source.port, 0);
    ports.writeUInt16BE(destination.port, 2);
    addresses = Buffer.concat([addressBytes(options.source.address), addressBytes(destination.address), ports]);
    familyByte = options.familyByte ?? (isIPv4(options.source.address) ? 0x11 : 0x21);
  }
  const tlvs = (options.tlvs ?? []).map((t) => tlv(t.type, t.value));
  if (options.crc !== undefined) tlvs.push(tlv(0x03, Buffer.alloc(4)));
  const body = Buffer.concat([addresses, ...tlvs]);
  const fixed = Buffer.alloc(4);
  fixed[0] = 0x20 | (command === 'local' ? 0 : 1);
  fixed[1] = familyByte;
  fixed.writeUInt16BE(body.length, 2);
  const header = Buffer.concat([V2_SIGNATURE, fixed, body]);
  if (options.crc !== undefined) {
    const sum = crc32c(header) ^ (options.crc === 'wrong' ? 1 : 0);
    header.writeUInt32BE(sum >>> 0, header.length - 4);
  }
  return header;
}

/**
 * A client that connects from `localAddress` (any 127.x works on Linux loopback) and sends
 * `header` first, as a proxy would; with `ca`, TLS is started after the header (implicit TLS).
 */
export async function connectWithHeader(port: number, header: Buffer | undefined, options: { localAddress?: string; ca?: string } = {}): Promise<Pop3Client> {
  const socket = tcpConnect({ port, host: '127.0.0.1', localAddress: options.localAddress ?? '127.0.0.1' });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  if (header !== undefined) socket.write(header);
  if (options.ca === undefined) return Pop3Client.over(new LineSocket(socket));
  const secure = tlsConnect({ socket, ca: options.ca, servername: 'localhost' });
  await new Promise<void>((resolve, reject) => {
    secure.once('secureConnect', resolve);
    secure.once('error', reject);
  });
  return Pop3Client.over(new LineSocket(secure));
}
