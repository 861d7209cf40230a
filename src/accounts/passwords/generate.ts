// New hashes in `{SCHEME}` form (`r2d2 pw`, rehash_to), with the costs slow-schemes.ts sets.
import { generateDigest, isDigestScheme } from './digest-schemes';
import { generatePbkdf2 } from './pbkdf2';
import { schemeLabel, type SchemeSpec } from '../../config/password-schemes';
import { generateSlow, isSlowScheme } from './slow-schemes';

export async function hashPassword(spec: SchemeSpec, password: string): Promise<string> {
  // {CRYPT} is crypt(3)'s choice; r2d2 chooses SHA512-CRYPT, which every crypt(3) reads.
  const scheme = spec.scheme === 'CRYPT' ? 'SHA512-CRYPT' : spec.scheme;
  const label = spec.scheme === 'CRYPT' ? 'CRYPT' : schemeLabel(spec);
  if (isSlowScheme(scheme)) return `{${label}}${await generateSlow(scheme, password)}`;
  if (scheme === 'PBKDF2') return `{${label}}${await generatePbkdf2(password)}`;
  if (isDigestScheme(scheme)) return `{${label}}${generateDigest(scheme, spec.encoding, password)}`;
  throw new Error(`cannot generate ${scheme}`);
}
