// SHA-crypt ($5$ SHA-256, $6$ SHA-512): Ulrich Drepper's "Unix crypt using SHA-256 and
// SHA-512" (https://www.akkadia.org/drepper/SHA-crypt.txt). No npm library does it natively
// and well-kept; it is a short spec over node:crypto's hashes, and for $6$ (PostfixAdmin's
// default) the round loop runs in WebAssembly (sha512-rounds.ts): at a node:crypto call per
// round it cost ten times what libxcrypt does. Slow by design (5000 rounds by default): called
// only inside the hashing worker pool (crypt-pool.ts), never on a session's loop.
import { createHash } from 'node:crypto';
import { cryptBase64 } from './crypt-base64';
import { sha512Rounds } from './sha512-rounds';

export const SHA_CRYPT_DEFAULT_ROUNDS = 5000;
const MIN_ROUNDS = 1000;
const MAX_ROUNDS = 999_999_999;
const MAX_SALT = 16;

type Variant = { readonly id: '5' | '6'; readonly algorithm: 'sha256' | 'sha512'; readonly groups: ReadonlyArray<readonly [number, number, number, number]> };

const SHA256_GROUPS: ReadonlyArray<readonly [number, number, number, number]> = [
  [0, 10, 20, 4], [21, 1, 11, 4], [12, 22, 2, 4], [3, 13, 23, 4], [24, 4, 14, 4],
  [15, 25, 5, 4], [6, 16, 26, 4], [27, 7, 17, 4], [18, 28, 8, 4], [9, 19, 29, 4], [-1, 31, 30, 3],
];

/** SHA-512's order: groups k = 0..20 of bytes k, k+21, k+42, rotated by k mod 3; then byte 63. */
const SHA512_GROUPS: ReadonlyArray<readonly [number, number, number, number]> = [
  ...Array.from({ length: 21 }, (_, k): [number, number, number, number] => {
    const bytes = [k, k + 21, k + 42];
    const r = k % 3;
    const [a = 0, b = 0, c = 0] = [...bytes.slice(r), ...bytes.slice(0, r)];
    return [a, b, c, 4];
  }),
  [-1, -1, 63, 2],
];

const VARIANTS = {
  '5': { id: '5', algorithm: 'sha256', groups: SHA256_GROUPS },
  '6': { id: '6', algorithm: 'sha512', groups: SHA512_GROUPS },
} as const satisfies Record<string, Variant>;

export interface ShaCryptSetting {
  readonly id: '5' | '6';
  /** undefined: no `rounds=` in the setting (the default 5000, not written out). */
  readonly rounds: number | undefined;
  readonly salt: string;
}

/** `$5$[rounds=N$]salt[$hash]`, the way glibc reads it; undefined when it is not one. */
export function parseShaCryptSetting(setting: string): ShaCryptSetting | undefined {
  const match = /^\$([56])\$(?:rounds=([0-9]{1,10})\$)?([^$]*)/.exec(setting);
  if (match === null) return undefined;
  const id = match[1] === '5' ? '5' : '6';
  const rounds = match[2] === undefined ? undefined : Math.min(MAX_ROUNDS, Math.max(MIN_ROUNDS, Number(match[2])));
  return { id, rounds, salt: (match[3] ?? '').slice(0, MAX_SALT) };
}

/**
 * The full crypt string for this password and setting (salt and rounds as the setting has them).
 * `inModule`: false runs the round loop in JavaScript (tests compare the two).
 */
export function shaCrypt(password: Buffer, setting: ShaCryptSetting, inModule = true): string {
  const variant: Variant = VARIANTS[setting.id];
  const hash = (...parts: Buffer[]): Buffer => {
    const h = createHash(variant.algorithm);
    for (const part of parts) h.update(part);
    return h.digest();
  };
  const p = password;
  const s = Buffer.from(setting.salt, 'latin1');
  const rounds = setting.rounds ?? SHA_CRYPT_DEFAULT_ROUNDS;
  const b = hash(p, s, p);
  const a = createHash(variant.algorithm).update(p).update(s).update(repeatTo(b, p.length));
  for (let n = p.length; n > 0; n >>= 1) a.update(n & 1 ? b : p);
  let c: Buffer = a.digest();
  // DP and DS hash the password p.length times and the salt 16 + c[0] times over: one update of
  // the repeated bytes each, not hundreds of calls.
  const pBytes = repeatTo(hashRepeated(variant.algorithm, p, p.length), p.length);
  const sBytes = repeatTo(hashRepeated(variant.algorithm, s, 16 + (c[0] ?? 0)), s.length);
  const fast = variant.id === '6' && inModule ? sha512Rounds(c, pBytes, sBytes, rounds) : undefined;
  if (fast !== undefined) c = fast;
  for (let i = 0; fast === undefined && i < rounds; i++) {
    const h = createHash(variant.algorithm);
    h.update(i & 1 ? pBytes : c);
    if (i % 3 !== 0) h.update(sBytes);
    if (i % 7 !== 0) h.update(pBytes);
    h.update(i & 1 ? c : pBytes);
    c = h.digest();
  }
  const roundsPart = setting.rounds === undefined ? '' : `rounds=${setting.rounds}$`;
  return `$${variant.id}$${roundsPart}${setting.salt}$${cryptBase64(c, variant.groups)}`;
}

/** The hash of `block` repeated `times` times, fed in pieces of up to 64 KiB. */
function hashRepeated(algorithm: Variant['algorithm'], block: Buffer, times: number): Buffer {
  const h = createHash(algorithm);
  const per = Math.max(1, Math.floor(65536 / Math.max(1, block.length)));
  const piece = repeatTo(block, block.length * Math.min(per, times));
  for (let left = times; left > 0; left -= per) h.update(left >= per ? piece : piece.subarray(0, left * block.length));
  return h.digest();
}

/** `block` repeated and cut to `length` bytes. */
function repeatTo(block: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let at = 0; at < length; at += block.length) block.copy(out, at, 0, Math.min(block.length, length - at));
  return out;
}
