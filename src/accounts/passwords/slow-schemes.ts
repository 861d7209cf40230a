// The schemes that cost tens of milliseconds by design, never on the event loop:
// Argon2 and bcrypt through napi-rs (@node-rs/argon2, @node-rs/bcrypt: Rust's maintained
// argon2 and bcrypt crates, prebuilt binaries shipped in the npm packages, async on libuv's
// pool); SHA-crypt and MD5-crypt in r2d2's worker pool (crypt-pool.ts).
import { hash as argon2Hash, verify as argon2Verify, Algorithm } from '@node-rs/argon2';
import { hash as bcryptHash, verify as bcryptVerify } from '@node-rs/bcrypt';
import { randomBytes } from 'node:crypto';
import { randomSalt } from './crypt-base64';
import { cryptInPool } from './crypt-pool';
import { constantTimeEqual, MalformedHash } from './equal';
import type { SchemeName } from '../../config/password-schemes';
import { SHA_CRYPT_DEFAULT_ROUNDS } from './sha-crypt';

const ARGON2 = /^\$argon2(id|i)\$(?:v=(16|19)\$)?m=([0-9]{1,8}),t=([0-9]{1,6}),p=([0-9]{1,3})\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]{16,}$/;
const BCRYPT = /^\$2[aby]\$([0-9]{2})\$[./A-Za-z0-9]{53}$/;
const SHA_CRYPT = /^\$([56])\$(?:rounds=([0-9]{1,9})\$)?[^$]{0,16}\$[./A-Za-z0-9]+$/;
const MD5_CRYPT = /^\$1\$[^$]{0,8}\$[./A-Za-z0-9]{22}$/;

/** What r2d2 writes (`r2d2 pw`, rehash_to), and what a stored hash must reach not to be rehashed. */
export const ARGON2ID_COST = { memoryCost: 65536, timeCost: 3, parallelism: 1 } as const; // Dovecot's
export const ARGON2I_COST = { memoryCost: 32768, timeCost: 4, parallelism: 1 } as const; // Dovecot's
export const BCRYPT_COST = 10; // Dovecot writes 5; 10 is bcrypt's own default

export function isSlowScheme(scheme: SchemeName): boolean {
  return scheme === 'ARGON2ID' || scheme === 'ARGON2I' || scheme === 'BLF-CRYPT' || scheme === 'SHA512-CRYPT' || scheme === 'SHA256-CRYPT' || scheme === 'MD5-CRYPT';
}

export async function verifySlow(scheme: SchemeName, body: string, password: string): Promise<boolean> {
  switch (scheme) {
    case 'ARGON2ID':
    case 'ARGON2I': {
      const m = Number(ARGON2.exec(body)?.[3]);
      // 4 GiB: beyond that a stored value is an attack on this server's memory, not a hash.
      if (!(m >= 8 && m <= 4 * 1024 * 1024)) throw new MalformedHash(`{${scheme}} value is not an Argon2 PHC string`);
      return argon2Verify(body, password).catch(() => {
        throw new MalformedHash(`{${scheme}} value cannot be decoded`);
      });
    }
    case 'BLF-CRYPT': {
      const cost = Number(BCRYPT.exec(body)?.[1]);
      if (!(cost >= 4 && cost <= 31)) throw new MalformedHash('{BLF-CRYPT} value is not a $2a$/$2b$/$2y$ bcrypt string');
      return bcryptVerify(password, body).catch(() => {
        throw new MalformedHash('{BLF-CRYPT} value cannot be decoded');
      });
    }
    case 'SHA512-CRYPT':
    case 'SHA256-CRYPT':
    case 'MD5-CRYPT': {
      if (!(scheme === 'MD5-CRYPT' ? MD5_CRYPT : SHA_CRYPT).test(body)) throw new MalformedHash(`{${scheme}} value is not a crypt string`);
      const computed = await cryptInPool({ password, setting: body });
      if (computed === undefined) throw new MalformedHash(`{${scheme}} value is not a crypt string`);
      return constantTimeEqual(computed, body);
    }
    default:
      throw new MalformedHash(`${scheme} is not a slow scheme`);
  }
}

export async function generateSlow(scheme: SchemeName, password: string): Promise<string> {
  switch (scheme) {
    case 'ARGON2ID':
      return argon2Hash(password, { algorithm: Algorithm.Argon2id, ...ARGON2ID_COST });
    case 'ARGON2I':
      return argon2Hash(password, { algorithm: Algorithm.Argon2i, ...ARGON2I_COST });
    case 'BLF-CRYPT':
      // $2b$ and $2y$ are the same algorithm; $2y$ is what Dovecot and PHP write.
      return (await bcryptHash(password, BCRYPT_COST)).replace(/^\$2b\$/, '$2y$');
    case 'SHA512-CRYPT':
    case 'SHA256-CRYPT':
    case 'MD5-CRYPT': {
      const id = scheme === 'SHA512-CRYPT' ? '6' : scheme === 'SHA256-CRYPT' ? '5' : '1';
      const salt = randomSalt(id === '1' ? 8 : 16, randomBytes(16));
      const computed = await cryptInPool({ password, setting: `$${id}$${salt}` });
      if (computed === undefined) throw new Error(`cannot generate ${scheme}`);
      return computed;
    }
    default:
      throw new Error(`${scheme} is not a slow scheme`);
  }
}

/** Whether a stored slow hash has lower costs than what r2d2 writes for its scheme. */
export function hasWeakerCost(scheme: SchemeName, body: string): boolean {
  switch (scheme) {
    case 'ARGON2ID':
    case 'ARGON2I': {
      const match = ARGON2.exec(body);
      const target = scheme === 'ARGON2ID' ? ARGON2ID_COST : ARGON2I_COST;
      return match === null || Number(match[3]) < target.memoryCost || Number(match[4]) < target.timeCost;
    }
    case 'BLF-CRYPT':
      return Number(BCRYPT.exec(body)?.[1] ?? 0) < BCRYPT_COST;
    case 'SHA512-CRYPT':
    case 'SHA256-CRYPT': {
      const match = SHA_CRYPT.exec(body);
      return match === null || Number(match[2] ?? SHA_CRYPT_DEFAULT_ROUNDS) < SHA_CRYPT_DEFAULT_ROUNDS;
    }
    default:
      return false;
  }
}
