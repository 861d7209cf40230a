import { hostname } from 'node:os';

/** The unique part of a Maildir name (before `:`) is at most this long: r2d2's name rule. */
export const MAX_BASE_LENGTH = 70;

let counter = 0;

/**
 * A Maildir unique name that carries the rfc822 size: `<sec>.M<usec>P<pid>Q<n>Z<HEX>.<host>`.
 * Time, microseconds, pid and a per-process counter make it unique on a host; the host makes
 * it unique across hosts sharing storage. The host is encoded (`/` `:` `.` as \057 \072 \056,
 * the Maildir convention) and cut so the whole name stays within 70 characters.
 */
export function uniqueName(rfc822Size: number, now: bigint = process.hrtime.bigint(), host: string = hostname()): string {
  const wallMicros = BigInt(Date.now()) * 1000n + (now / 1000n) % 1000n;
  const seconds = wallMicros / 1_000_000n;
  const micros = wallMicros % 1_000_000n;
  counter = (counter + 1) % 1_000_000;
  const left = `${seconds}.M${micros}P${process.pid}Q${counter}Z${rfc822Size.toString(16).toUpperCase()}.`;
  const room = MAX_BASE_LENGTH - left.length;
  return left + encodeHost(host, Math.max(room, 1));
}

function encodeHost(host: string, room: number): string {
  let out = '';
  for (const ch of host) {
    const piece = ch === '/' ? '\\057' : ch === ':' ? '\\072' : ch === '.' ? '\\056' : /[\x21-\x7e]/.test(ch) ? ch : '';
    if (out.length + piece.length > room) break;
    out += piece;
  }
  return out.length > 0 ? out : 'localhost'.slice(0, room);
}
