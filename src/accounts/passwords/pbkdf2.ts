// Dovecot's PBKDF2: `$1$<salt>$<rounds>$<hex>`, PBKDF2-HMAC-SHA1 with a 20-byte key, the salt
// used as its characters. node:crypto's pbkdf2 runs on libuv's pool, off the event loop.
import { pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { randomSalt } from './crypt-base64';
import { constantTimeEqual, MalformedHash } from './equal';

const derive = promisify(pbkdf2);
const KEY_BYTES = 20;
export const PBKDF2_DEFAULT_ROUNDS = 5000;
const MAX_ROUNDS = 10_000_000;
const FORMAT = /^\$1\$([^$]{1,64})\$([0-9]{1,8})\$([0-9a-f]{40})$/i;

export function pbkdf2Rounds(body: string): number | undefined {
  const match = FORMAT.exec(body);
  return match === null ? undefined : Number(match[2]);
}

export async function verifyPbkdf2(body: string, password: string): Promise<boolean> {
  const match = FORMAT.exec(body);
  const rounds = Number(match?.[2]);
  if (match === null || !(rounds >= 1 && rounds <= MAX_ROUNDS)) throw new MalformedHash('{PBKDF2} value is not $1$salt$rounds$hex');
  const key = await derive(Buffer.from(password, 'utf8'), Buffer.from(match[1] ?? '', 'utf8'), rounds, KEY_BYTES, 'sha1');
  return constantTimeEqual(key, Buffer.from(match[3] ?? '', 'hex'));
}

export async function generatePbkdf2(password: string, rounds = PBKDF2_DEFAULT_ROUNDS): Promise<string> {
  const salt = randomSalt(16, randomBytes(16));
  const key = await derive(Buffer.from(password, 'utf8'), Buffer.from(salt, 'utf8'), rounds, KEY_BYTES, 'sha1');
  return `$1$${salt}$${rounds}$${key.toString('hex')}`;
}
