// The `passwords { ... }` section and rehash_query_format_string: how r2d2 verifies a
// `password` column the maildrop query returns. Plugged into src/config/r2d2-schema.ts.
import { C11nError, type Pos } from './errors';
import { bool, section, str, where } from './schema';
import type { PasswordsConfig } from './types';
import { selectsPasswordColumn } from './query-columns';
import { parseSchemeName, REHASH_TARGETS, SCHEMES } from './password-schemes';

const checkScheme = (name: string): string | undefined =>
  parseSchemeName(name) === undefined ? `must be a password scheme (${SCHEMES.join(', ')}, or SHA256.HEX, SHA512.HEX ...), got ${JSON.stringify(name)}` : undefined;

const checkRehashTarget = (name: string): string | undefined => {
  const spec = parseSchemeName(name);
  return spec !== undefined && REHASH_TARGETS.has(spec.scheme) ? undefined : `must be one of ${[...REHASH_TARGETS].join(', ')}, got ${JSON.stringify(name)}`;
};

/** Every `%` starts one of %h %o %u %l %d %r %% -- never %p: a password is not written anywhere. */
export function checkRehashQueryFormat(format: string): string | undefined {
  if (format.trim() === '') return 'must not be empty';
  for (let i = 0; i < format.length; i++) {
    if (format[i] !== '%') continue;
    const next = format[i + 1];
    if (next === undefined) return 'ends with a lone "%" (write %% for a literal percent)';
    if (!'holdur%'.includes(next)) {
      return `has an unknown substitution "%${next}" at character ${i + 1} (a rehash query has %h %o %u %l %d %r and %%)`;
    }
    i++;
  }
  return format.includes('%h') ? undefined : 'must write the new hash: it has no %h';
}

export const passwordsSchema = section({
  default_scheme: str().check(checkScheme),
  allow_weak_schemes: bool().default(false),
  rehash_to: str().check(checkRehashTarget),
});

type PasswordsDoc = ReturnType<(typeof passwordsSchema)['body']>;

export interface PasswordsPlaces {
  readonly maildropQuery: Pos | undefined;
  readonly rehashQuery: Pos | undefined;
  readonly document: Pos;
}

export function toPasswordsConfig(doc: PasswordsDoc, maildropQuery: string, rehashQuery: string | undefined, places: PasswordsPlaces): PasswordsConfig {
  if (selectsPasswordColumn(maildropQuery) && /%p/.test(maildropQuery.replace(/%%/g, ''))) {
    throw C11nError.at(
      places.maildropQuery ?? places.document,
      'maildrop_query_format_string returns a password column, so r2d2 verifies the password itself: remove %p (the client\'s password must not be sent to the database)',
    );
  }
  const rehashAt = where(doc, 'rehash_to');
  if (doc.rehash_to !== undefined && rehashQuery === undefined) {
    throw C11nError.at(rehashAt ?? places.document, 'passwords.rehash_to needs rehash_query_format_string (the UPDATE that writes %h)');
  }
  if (rehashQuery !== undefined && doc.rehash_to === undefined) {
    throw C11nError.at(places.rehashQuery ?? places.document, 'rehash_query_format_string needs passwords.rehash_to (the scheme to rehash to)');
  }
  const rehashTo = doc.rehash_to === undefined ? undefined : parseSchemeName(doc.rehash_to)?.scheme;
  return {
    defaultScheme: doc.default_scheme === undefined ? undefined : parseSchemeName(doc.default_scheme),
    allowWeakSchemes: doc.allow_weak_schemes,
    rehashTo,
    rehashQuery,
  };
}
