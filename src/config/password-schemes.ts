// The password schemes r2d2 reads, by the names Dovecot writes in a `{SCHEME}` prefix.
// A leaf module: the config loader checks scheme names against it.

export const SCHEMES = [
  'SHA512-CRYPT', 'SHA256-CRYPT', 'BLF-CRYPT', 'ARGON2ID', 'ARGON2I', 'PBKDF2',
  'SSHA512', 'SSHA256', 'SSHA', 'SHA512', 'SHA256', 'SHA', 'PLAIN', 'PLAIN-MD5', 'MD5-CRYPT', 'CRYPT',
] as const;
export type SchemeName = (typeof SCHEMES)[number];

/** Dovecot 2.4's rule: these are refused unless passwords.allow_weak_schemes = yes. */
export const WEAK_SCHEMES: ReadonlySet<SchemeName> = new Set<SchemeName>(['MD5-CRYPT', 'PLAIN-MD5', 'SHA']);

/** Schemes worth rehashing to (slow by design, with a cost r2d2 sets). */
export const REHASH_TARGETS: ReadonlySet<SchemeName> = new Set<SchemeName>(['ARGON2ID', 'ARGON2I', 'BLF-CRYPT', 'SHA512-CRYPT', 'SHA256-CRYPT', 'PBKDF2']);

/** Other names Dovecot accepts for the same scheme. */
const ALIASES: Readonly<Record<string, SchemeName>> = { SHA1: 'SHA', CLEAR: 'PLAIN', CLEARTEXT: 'PLAIN', MD5: 'MD5-CRYPT' };

export type Encoding = 'hex' | 'base64';

/** The digest schemes take a `.HEX` or `.B64` suffix; this is the encoding without one. */
export const DEFAULT_ENCODING: Partial<Readonly<Record<SchemeName, Encoding>>> = {
  SHA: 'base64', SHA256: 'base64', SHA512: 'base64', SSHA: 'base64', SSHA256: 'base64', SSHA512: 'base64', 'PLAIN-MD5': 'hex',
};

export interface SchemeSpec {
  readonly scheme: SchemeName;
  /** The encoding a `.HEX`/`.B64` suffix asked for; undefined: the scheme's default. */
  readonly encoding: Encoding | undefined;
}

/** `SHA256.HEX`, `ssha512`, `CLEARTEXT`, ... as a scheme; undefined when r2d2 does not know it. */
export function parseSchemeName(text: string): SchemeSpec | undefined {
  const upper = text.toUpperCase();
  const dot = upper.lastIndexOf('.');
  const suffix = dot === -1 ? '' : upper.slice(dot + 1);
  const encoding: Encoding | undefined = suffix === 'HEX' ? 'hex' : suffix === 'B64' || suffix === 'BASE64' ? 'base64' : undefined;
  const base = encoding === undefined ? upper : upper.slice(0, dot);
  const scheme = (SCHEMES as readonly string[]).includes(base) ? (base as SchemeName) : ALIASES[base];
  if (scheme === undefined) return undefined;
  if (encoding !== undefined && DEFAULT_ENCODING[scheme] === undefined) return undefined;
  return { scheme, encoding };
}

/** The `{NAME}` r2d2 writes: the suffix only where it differs from the scheme's default. */
export function schemeLabel(spec: SchemeSpec): string {
  const suffix = spec.encoding === undefined || spec.encoding === DEFAULT_ENCODING[spec.scheme] ? '' : spec.encoding === 'hex' ? '.HEX' : '.B64';
  return spec.scheme + suffix;
}
