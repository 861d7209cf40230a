// One stored password value against the password a client sent.
import { isDigestScheme, verifyDigest } from './digest-schemes';
import { MalformedHash } from './equal';
import { verifyPbkdf2 } from './pbkdf2';
import { WEAK_SCHEMES, type SchemeName, type SchemeSpec } from '../../config/password-schemes';
import { hasWeakerCost, isSlowScheme, verifySlow } from './slow-schemes';
import { parseStoredHash, type StoredHash } from './stored-hash';

export interface PasswordPolicy {
  /** For values with neither a {SCHEME} prefix nor a $id$. */
  readonly defaultScheme: SchemeSpec | undefined;
  readonly allowWeakSchemes: boolean;
}

export type Verdict =
  | { readonly kind: 'match'; readonly stored: StoredHash }
  | { readonly kind: 'mismatch' }
  /** The stored value cannot be checked (unknown scheme, malformed, weak): for the log. */
  | { readonly kind: 'unusable'; readonly reason: string };

export async function verifyPassword(value: string, password: string, policy: PasswordPolicy): Promise<Verdict> {
  const stored = parseStoredHash(value, policy.defaultScheme);
  if ('error' in stored) return { kind: 'unusable', reason: stored.error };
  if (WEAK_SCHEMES.has(stored.scheme) && !policy.allowWeakSchemes) {
    return { kind: 'unusable', reason: `weak password scheme ${stored.scheme} (allowed only with passwords.allow_weak_schemes = yes)` };
  }
  try {
    return (await check(stored, password)) ? { kind: 'match', stored } : { kind: 'mismatch' };
  } catch (error) {
    if (error instanceof MalformedHash) return { kind: 'unusable', reason: error.message };
    throw error;
  }
}

function check(stored: StoredHash, password: string): Promise<boolean> | boolean {
  if (isSlowScheme(stored.scheme)) return verifySlow(stored.scheme, stored.body, password);
  if (stored.scheme === 'PBKDF2') return verifyPbkdf2(stored.body, password);
  if (isDigestScheme(stored.scheme)) return verifyDigest(stored.scheme, stored.encoding, stored.body, password);
  throw new MalformedHash(`no verifier for ${stored.scheme}`);
}

/** Whether a hash that just matched should be rewritten in `target` (passwords.rehash_to). */
export function needsRehash(stored: StoredHash, target: SchemeName): boolean {
  if (stored.scheme !== target) return true;
  if (target === 'PBKDF2') return false;
  return hasWeakerCost(stored.scheme, stored.body);
}
