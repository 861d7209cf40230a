import { crypto } from '../maildrop/lazy-crypto';
import { hostname } from 'node:os';
import { MAX_UNIQUE_NAME_LENGTH } from '../maildrop/name';

/** Hex digits of sha256(host) kept when a host name must be shortened (32 bits). */
const HOST_TAG_LENGTH = 8;

let counter = 0;
let lastMicros = 0n;
let lastHost: { host: string; room: number; encoded: string } | undefined;

/**
 * A Maildir unique name that carries the rfc822 size: `<sec>.M<usec>P<pid>Q<n>Z<HEX>.<host>`.
 * Time, microseconds, pid and a per-process counter make it unique on a host; the host makes
 * it unique across hosts sharing storage. The host is encoded (`/` `:` `.` `~` and anything
 * outside 0x21..0x7E as \ooo octal, the Maildir convention) and, when it does not fit, cut and
 * tagged with a hash of the whole host name, so that two long host names sharing a prefix still
 * give different names. The whole name always stays within 70 characters.
 */
export function uniqueName(rfc822Size: number, now: bigint = process.hrtime.bigint(), host: string = hostname()): string {
  // Never backwards within a process, so names sort in delivery order (the scan sorts by name
  // within a second; micros are zero-padded for that).
  let wallMicros = BigInt(Date.now()) * 1000n + (now / 1000n) % 1000n;
  if (wallMicros <= lastMicros) wallMicros = lastMicros + 1n;
  lastMicros = wallMicros;
  const seconds = wallMicros / 1_000_000n;
  const micros = String(wallMicros % 1_000_000n).padStart(6, '0');
  counter = (counter + 1) % 1_000_000;
  const left = `${seconds}.M${micros}P${process.pid}Q${counter}Z${rfc822Size.toString(16).toUpperCase()}.`;
  return left + hostPart(host, Math.max(MAX_UNIQUE_NAME_LENGTH - left.length, 1));
}

/** The host as it appears in a name, at most `room` characters (never empty). */
export function hostPart(host: string, room: number): string {
  if (lastHost !== undefined && lastHost.host === host && lastHost.room === room) return lastHost.encoded;
  const encoded = shorten(host, room);
  lastHost = { host, room, encoded };
  return encoded;
}

function shorten(host: string, room: number): string {
  const pieces = [...host].map(encodeChar);
  const full = pieces.join('');
  if (full.length === 0) return 'localhost'.slice(0, room);
  if (full.length <= room) return full;
  const tag = crypto().createHash('sha256').update(host, 'utf8').digest('hex').slice(0, HOST_TAG_LENGTH);
  if (room <= tag.length + 1) return tag.slice(0, room);
  let prefix = '';
  for (const piece of pieces) {
    if (prefix.length + piece.length > room - tag.length - 1) break; // never split an escape
    prefix += piece;
  }
  return `${prefix}-${tag}`;
}

function encodeChar(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  // `~` is escaped too: a host part starting with `~` carries a unique-id (src/maildrop/name.ts).
  if (code < 0x21 || code > 0x7e || ch === '/' || ch === ':' || ch === '.' || ch === '~' || ch === '\\') {
    return code > 0xff ? '' : `\\${code.toString(8).padStart(3, '0')}`;
  }
  return ch;
}
