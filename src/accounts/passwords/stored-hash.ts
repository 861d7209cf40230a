// A stored password value, as PostfixAdmin and Dovecot write them, read into its scheme:
// `{SCHEME}body`, a bare crypt string `$id$...`, or a bare value in passwords.default_scheme.
import { parseSchemeName, type Encoding, type SchemeName, type SchemeSpec } from '../../config/password-schemes';

export interface StoredHash {
  readonly scheme: SchemeName;
  readonly encoding: Encoding | undefined;
  /** The value after any `{SCHEME}` prefix; a crypt string for the crypt schemes. */
  readonly body: string;
}

/** Crypt ids, as `$id$` starts them. */
const CRYPT_IDS: Readonly<Record<string, SchemeName>> = {
  '1': 'MD5-CRYPT', '5': 'SHA256-CRYPT', '6': 'SHA512-CRYPT', '2a': 'BLF-CRYPT', '2b': 'BLF-CRYPT', '2y': 'BLF-CRYPT',
  argon2id: 'ARGON2ID', argon2i: 'ARGON2I',
};

/** The schemes whose body is a crypt string, and the ids that body may have. */
const CRYPT_BODY_IDS: Partial<Readonly<Record<SchemeName, readonly string[]>>> = {
  'MD5-CRYPT': ['1'], 'SHA256-CRYPT': ['5'], 'SHA512-CRYPT': ['6'], 'BLF-CRYPT': ['2a', '2b', '2y'], ARGON2ID: ['argon2id'], ARGON2I: ['argon2i'],
};

export type ParsedStored = StoredHash | { readonly error: string };

export function parseStoredHash(value: string, defaultScheme: SchemeSpec | undefined): ParsedStored {
  if (value.length === 0) return { error: 'empty password value' };
  const prefixed = /^\{([^{}\s]{1,32})\}/.exec(value);
  if (prefixed !== null) {
    const name = prefixed[1] ?? '';
    const spec = parseSchemeName(name);
    if (spec === undefined) return { error: `unknown password scheme {${name.slice(0, 32)}}` };
    return fromSpec(spec, value.slice(prefixed[0].length));
  }
  if (value.startsWith('$')) return fromCrypt(value);
  if (defaultScheme === undefined) return { error: 'password value has no {SCHEME} prefix and no $id$, and passwords.default_scheme is not set' };
  return fromSpec(defaultScheme, value);
}

function fromSpec(spec: SchemeSpec, body: string): ParsedStored {
  // {CRYPT} is crypt(3): the crypt string's own id says which scheme.
  if (spec.scheme === 'CRYPT') return fromCrypt(body);
  const ids = CRYPT_BODY_IDS[spec.scheme];
  if (ids !== undefined && !ids.includes(cryptId(body) ?? '')) return { error: `{${spec.scheme}} value is not a ${ids.map((id) => `$${id}$`).join(' ')} crypt string` };
  return { scheme: spec.scheme, encoding: spec.encoding, body };
}

function fromCrypt(body: string): ParsedStored {
  const id = cryptId(body);
  const scheme = id === undefined ? undefined : CRYPT_IDS[id];
  if (scheme === undefined) {
    return { error: id === undefined ? 'crypt value without a $id$ (traditional DES crypt is not supported)' : `unsupported crypt scheme $${id.slice(0, 16)}$` };
  }
  return { scheme, encoding: undefined, body };
}

function cryptId(body: string): string | undefined {
  return /^\$([0-9a-z]{1,16})\$/.exec(body)?.[1];
}
