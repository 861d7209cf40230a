// The one-pass digest schemes (Dovecot's SHA*, SSHA*, PLAIN-MD5, PLAIN): microseconds of
// work, so they run inline. Values are base64 unless the scheme or a .HEX suffix says hex.
import { createHash, randomBytes } from 'node:crypto';
import { DEFAULT_ENCODING, type Encoding, type SchemeName } from '../../config/password-schemes';
import { constantTimeEqual, MalformedHash } from './equal';

type Algorithm = 'md5' | 'sha1' | 'sha256' | 'sha512';

const DIGESTS: Partial<Readonly<Record<SchemeName, { readonly algorithm: Algorithm; readonly salted: boolean }>>> = {
  SHA: { algorithm: 'sha1', salted: false },
  SHA256: { algorithm: 'sha256', salted: false },
  SHA512: { algorithm: 'sha512', salted: false },
  SSHA: { algorithm: 'sha1', salted: true },
  SSHA256: { algorithm: 'sha256', salted: true },
  SSHA512: { algorithm: 'sha512', salted: true },
  'PLAIN-MD5': { algorithm: 'md5', salted: false },
};

const LENGTH: Readonly<Record<Algorithm, number>> = { md5: 16, sha1: 20, sha256: 32, sha512: 64 };
const SALT_BYTES = 8;

export function isDigestScheme(scheme: SchemeName): boolean {
  return scheme === 'PLAIN' || DIGESTS[scheme] !== undefined;
}

export function verifyDigest(scheme: SchemeName, encoding: Encoding | undefined, body: string, password: string): boolean {
  if (scheme === 'PLAIN') return constantTimeEqual(Buffer.from(body, 'utf8'), Buffer.from(password, 'utf8'));
  const digest = DIGESTS[scheme];
  if (digest === undefined) throw new MalformedHash(`${scheme} is not a digest scheme`);
  const size = LENGTH[digest.algorithm];
  const raw = decode(body, encoding ?? DEFAULT_ENCODING[scheme] ?? 'base64', size, encoding === undefined);
  if (digest.salted ? raw.length <= size : raw.length !== size) throw new MalformedHash(`{${scheme}} value has the wrong length`);
  const salt = raw.subarray(size);
  const computed = createHash(digest.algorithm).update(password, 'utf8').update(salt).digest();
  return constantTimeEqual(computed, raw.subarray(0, size));
}

export function generateDigest(scheme: SchemeName, encoding: Encoding | undefined, password: string): string {
  if (scheme === 'PLAIN') return password;
  const digest = DIGESTS[scheme];
  if (digest === undefined) throw new Error(`${scheme} is not a digest scheme`);
  const salt = digest.salted ? randomBytes(SALT_BYTES) : Buffer.alloc(0);
  const raw = Buffer.concat([createHash(digest.algorithm).update(password, 'utf8').update(salt).digest(), salt]);
  return raw.toString(encoding ?? DEFAULT_ENCODING[scheme] ?? 'base64');
}

/**
 * Strict decoding (Buffer.from skips bad characters silently). Like Dovecot, a base64 scheme
 * without an explicit suffix also reads a hex value of exactly the digest's length.
 */
function decode(body: string, encoding: Encoding, size: number, hexAllowed: boolean): Buffer {
  const hex = /^(?:[0-9a-fA-F]{2})+$/.test(body);
  if (encoding === 'hex' || (hexAllowed && hex && body.length === size * 2)) {
    if (!hex) throw new MalformedHash('value is not hex');
    return Buffer.from(body, 'hex');
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body) || body.length % 4 !== 0) throw new MalformedHash('value is not base64');
  return Buffer.from(body, 'base64');
}
