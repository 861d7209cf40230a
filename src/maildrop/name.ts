// Maildir file names: `time.unique.host[:2,FLAGS]` (cr.yp.to/proto/maildir.html), with r2d2's
// delivery adding `Z<hex>` -- the size as served (CRLF lines) in upper-case hex -- as the last
// field of the unique part: `1764200000.M20412P3121Q7Z1A2B.mx1:2,S`.
import { crypto } from './lazy-crypto';

/**
 * RFC 1939 §7 (UIDL): a unique-id is 1 to 70 characters in 0x21..0x7E. r2d2's one 70: the names
 * deliver writes and maildir fix renames to keep their unique part (before `:`) within it.
 */
export const MAX_UNIQUE_NAME_LENGTH = 70;
/** 13 hex digits = 52 bits: every value is a safe integer. */
const MAX_SIZE_HEX_DIGITS = 13;
/** Length of a hashed unique-id: `h` + 39 base64url characters of sha256 (234 bits). */
const HASHED_UIDL_LENGTH = 40;

export interface ParsedName {
  /** The name before the first `:` (the info part holds the flags). */
  readonly base: string;
  /** rfc822 size from the Z field, undefined if none/invalid */
  readonly size: number | undefined;
  readonly uidl: string;
}

// A Z field: `Z`, upper-case hex, then the end of the unique part or the start of another
// standard field (`#` or an upper-case letter that is not a hex digit: M, P, Q, R, I, V, X ...).
// `Z1a2b` (lower case) is therefore no Z field at all, rather than a misread `Z1`.
const isUpperHex = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46);
const isFieldStart = (c: number): boolean => c === 0x23 || (c >= 0x47 && c <= 0x5a);
const UIDL_CHARS = /^[\x21-\x7e]+$/;

/**
 * Splits a Maildir file name. Pure; never throws.
 *
 * The Z field is looked for only in the unique part proper: between the first `.` and the next
 * one. The host part (everything after) may contain dots or a `Z` of its own and is never read.
 * A size is trusted only when the unique part holds exactly one Z field of 1..13 digits, the
 * base is at most 70 characters and all of it is printable ASCII; otherwise `size` is undefined
 * and the caller measures the file.
 *
 * UIDL rule: the base with its Z field cut out, so that the unique-id survives flag changes
 * (`:2,S` -> `:2,RS`) and the later rename that only adds `Z<size>`. When that string is not a
 * valid RFC 1939 unique-id (longer than 70, or a byte outside 0x21..0x7E), the unique-id is
 * `h` + the first 39 base64url characters of sha256 of that same string -- deterministic, and
 * equally stable across those renames.
 *
 * Carried unique-ids: `r2d2 maildir fix` gives a size to foreign names whose unique-id the cut
 * rule cannot keep (a base that would pass 70 characters, or a hashed unique-id) by renaming them
 * to `<time>.Z<HEX>.~<unique-id>`: when a name has a trusted size and its host part starts with
 * `~`, the rest of the host part is the unique-id. r2d2's own names never have a `~` there
 * (src/deliver/unique-name.ts escapes it), nor do those of other delivery agents.
 */
export function parseMaildirName(fileName: string): ParsedName {
  const colon = fileName.indexOf(':');
  const base = colon < 0 ? fileName : fileName.slice(0, colon);
  let size: number | undefined;
  let key = base;
  const first = base.indexOf('.');
  const last = base.lastIndexOf('.');
  if (first > 0 && last > first) {
    const end = base.indexOf('.', first + 1); // the end of the unique part (<= last)
    let fields = 0;
    let zStart = 0;
    let zEnd = 0;
    for (let z = base.indexOf('Z', first + 1); z !== -1 && z < end; z = base.indexOf('Z', z + 1)) {
      let i = z + 1;
      while (i < end && isUpperHex(base.charCodeAt(i))) i++;
      if (i === z + 1 || (i < end && !isFieldStart(base.charCodeAt(i)))) continue;
      fields++;
      zStart = z;
      zEnd = i;
    }
    if (fields === 1) {
      key = base.slice(0, zStart) + base.slice(zEnd);
      const digits = zEnd - zStart - 1;
      const sane = base.length <= MAX_UNIQUE_NAME_LENGTH && UIDL_CHARS.test(base);
      if (sane && digits <= MAX_SIZE_HEX_DIGITS) {
        size = Number.parseInt(base.slice(zStart + 1, zEnd), 16);
        // A carried unique-id (written by `r2d2 maildir fix`): host part `~<unique-id>`.
        if (end + 2 < base.length && base.charCodeAt(end + 1) === 0x7e) return { base, size, uidl: base.slice(end + 2) };
      }
    }
  }
  const valid = key.length <= MAX_UNIQUE_NAME_LENGTH && UIDL_CHARS.test(key);
  return { base, size, uidl: valid ? key : hashedUidl(key) };
}

/**
 * The unique-id of a message whose own one an imported unique-id of another message took
 * (src/maildrop/uidl-assign.ts): a hash as for long names, of a string no name can give (`/`).
 */
export function displacedUidl(uidl: string): string {
  return hashedUidl('/' + uidl);
}

function hashedUidl(key: string): string {
  const digest = crypto().createHash('sha256').update(key, 'utf8').digest('base64url');
  return 'h' + digest.slice(0, HASHED_UIDL_LENGTH - 1);
}
