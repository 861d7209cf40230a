// Addresses as text for the PROXY protocol: v2 carries them as bytes, v1 as text that must be
// read strictly (no leading zeros, no zone) and written back in one canonical form, so that one
// client is one key in the per-address limits and penalties, whichever way its proxy wrote it.
import { isIPv6 } from 'node:net';

const IPV4_TEXT = /^(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;

/** Dotted quad, each number 0-255 without leading zeros (the v1 rule against octal readings). */
export function isStrictIpv4(text: string): boolean {
  return IPV4_TEXT.test(text);
}

export function ipv4Text(bytes: Uint8Array): string {
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/**
 * RFC 5952 text of 16 octets: lower-case hex without leading zeros, the longest run of two or
 * more zero groups (the first of equals) as `::`, and IPv4-mapped addresses as `::ffff:a.b.c.d`
 * (as the kernel and Node write a dual-stack socket's peer).
 */
export function ipv6Text(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return `::ffff:${ipv4Text(bytes.subarray(12, 16))}`;
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string => groups.slice(from, to).map((g) => g.toString(16)).join(':');
  if (bestStart === -1) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}

/** The 16 octets of an IPv6 address in text (an embedded dotted IPv4 tail allowed); undefined if it is none. */
export function parseIpv6(text: string): Buffer | undefined {
  if (text.includes('%') || !isIPv6(text)) return undefined;
  let body = text;
  const lastColon = body.lastIndexOf(':');
  const last = body.slice(lastColon + 1);
  if (last.includes('.')) {
    // An embedded IPv4 tail is two groups: "::ffff:1.2.3.4" reads as "::ffff:102:304".
    if (!isStrictIpv4(last)) return undefined;
    const [a = 0, b = 0, c = 0, d = 0] = last.split('.').map(Number);
    body = `${body.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = body.split('::');
  const toGroups = (part: string | undefined): number[] => (part === undefined || part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const head = toGroups(halves[0]);
  const rest = toGroups(halves[1]);
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...new Array<number>(Math.max(0, missing)).fill(0), ...rest];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

/** `::ffff:a.b.c.d` as `a.b.c.d`: an IPv4 client is one key whether its proxy spoke v4 or v6. */
export function unmapped(address: string): string {
  const m = /^::ffff:([0-9.]+)$/i.exec(address);
  return m?.[1] !== undefined && isStrictIpv4(m[1]) ? m[1] : address;
}
