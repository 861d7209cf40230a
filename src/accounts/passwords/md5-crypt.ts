// MD5-crypt ($1$), Poul-Henning Kamp's FreeBSD crypt: weak (1000 MD5 rounds), read for old
// installs only. Like sha-crypt.ts, it runs inside the hashing worker pool.
import { createHash } from 'node:crypto';
import { cryptBase64 } from './crypt-base64';

const MAGIC = Buffer.from('$1$');
const MAX_SALT = 8;
const GROUPS: ReadonlyArray<readonly [number, number, number, number]> = [
  [0, 6, 12, 4], [1, 7, 13, 4], [2, 8, 14, 4], [3, 9, 15, 4], [4, 10, 5, 4], [-1, -1, 11, 2],
];

/** The salt of `$1$salt[$hash]`; undefined when it is not one. */
export function parseMd5CryptSalt(setting: string): string | undefined {
  const match = /^\$1\$([^$]*)/.exec(setting);
  return match === null ? undefined : (match[1] ?? '').slice(0, MAX_SALT);
}

export function md5Crypt(password: Buffer, salt: string): string {
  const p = password;
  const s = Buffer.from(salt, 'latin1');
  const alt = createHash('md5').update(p).update(s).update(p).digest();
  const ctx = createHash('md5').update(p).update(MAGIC).update(s);
  for (let left = p.length; left > 0; left -= 16) ctx.update(alt.subarray(0, Math.min(16, left)));
  // The original's quirk: a zero byte or the password's first byte, by the bits of its length.
  const zero = Buffer.alloc(1);
  for (let n = p.length; n > 0; n >>= 1) ctx.update(n & 1 ? zero : p.subarray(0, 1));
  let final = ctx.digest();
  for (let i = 0; i < 1000; i++) {
    const h = createHash('md5');
    h.update(i & 1 ? p : final);
    if (i % 3 !== 0) h.update(s);
    if (i % 7 !== 0) h.update(p);
    h.update(i & 1 ? final : p);
    final = h.digest();
  }
  return `$1$${salt}$${cryptBase64(final, GROUPS)}`;
}
