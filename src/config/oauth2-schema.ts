// The `oauth2 { }` section: POP3 logins with OAuth2 bearer tokens (SASL OAUTHBEARER, RFC 7628,
// and XOAUTH2) checked against the identity provider's keys (JWKS) or its RFC 7662 introspection
// endpoint. Plugged into r2d2-schema.ts (one key, one line in toConfig) and types.ts.
import fs from 'node:fs';
import path from 'node:path';
import { C11nError, ioReason, type Pos } from './errors';
import { queryFormatCheck } from './query-format-check';
import { here, list, section, str, where } from './schema';
import { readSecretFile } from './secret-file';

/** Where the provider's public keys come from: a JWKS file (re-read on an unknown kid) or an https URL. */
export type JwksSource =
  | { readonly kind: 'file'; readonly path: string; readonly text: string }
  | { readonly kind: 'url'; readonly url: string };

/** RFC 7662: the endpoint, and the client credentials r2d2 authenticates to it with (HTTP Basic). */
export interface IntrospectionConfig {
  readonly url: string;
  readonly clientId: string;
  /** c11n `introspection_client_secret`, or the contents of `introspection_client_secret_file`. */
  readonly clientSecret: string;
}

export interface OAuth2Config {
  /** undefined: every token goes to introspection. */
  readonly jwks: JwksSource | undefined;
  /** PEM text of `jwks_ca` (read at load): the CA the https endpoints' certificates must chain to; undefined = the system's. */
  readonly ca: string | undefined;
  /** The token's `iss` must be exactly this. */
  readonly issuer: string;
  /** The token's `aud` must contain one of these. */
  readonly audiences: readonly string[];
  /** The claim that names the user (`email` by default): it becomes %u of the query. */
  readonly usernameClaim: string;
  /** Scopes the token must carry (its `scope` or `scp` claim); also sent in the failure challenge. */
  readonly scopes: readonly string[];
  readonly introspection: IntrospectionConfig | undefined;
  /** SQL with %u (the claim) %l %d %r %%: one row, the user's maildir. */
  readonly maildropQuery: string;
}

const notEmpty = (s: string): string | undefined => (s.trim() === '' ? 'must not be empty' : undefined);

/** A token login has no password: %p has nothing to bind, and a query must not need one. */
function checkTokenQueryFormat(format: string): string | undefined {
  if (/%p/.test(format.replace(/%%/g, ''))) return 'must not use %p: a token login has no password (the token was checked already)';
  return queryFormatCheck('uldr', 'a token login query has %u (the token\'s user) %l %d %r and %%')(format);
}

function checkHttpsUrl(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `must be an https:// URL, got ${JSON.stringify(text)}`;
  }
  if (url.protocol !== 'https:') return `must be an https:// URL (keys and tokens never travel in the clear), got ${JSON.stringify(text)}`;
  if (url.username !== '' || url.password !== '') return 'must not hold credentials: use introspection_client_id and introspection_client_secret_file';
  return undefined;
}

export const oauth2Schema = section({
  jwks: str().check(notEmpty),
  jwks_ca: str().check(notEmpty),
  issuer: str().check(notEmpty),
  audience: list(str().check(notEmpty)),
  username_claim: str().check(notEmpty).default('email'),
  scope: str().check(notEmpty),
  introspection_url: str().check(checkHttpsUrl),
  introspection_client_id: str().check(notEmpty),
  introspection_client_secret: str(),
  introspection_client_secret_file: str().check(notEmpty),
  maildrop_query_format_string: str().check(checkTokenQueryFormat),
});

type OAuth2Doc = ReturnType<(typeof oauth2Schema)['body']>;

/** The section as an OAuth2Config; undefined when the personality has no `oauth2` section. */
export function toOAuth2Config(doc: OAuth2Doc, present: boolean, personalityDir: string): OAuth2Config | undefined {
  if (!present) return undefined;
  const at = (key?: string) => (key === undefined ? here(doc) : (where(doc, key) ?? here(doc)));
  const need = (key: string): never => {
    throw C11nError.at(at(), `missing required "${key}" in section "oauth2"`);
  };
  const issuer = doc.issuer ?? need('issuer');
  const audiences = doc.audience ?? need('audience');
  if (audiences.length === 0) throw C11nError.at(at('audience'), '"audience" must name at least one audience');
  const maildropQuery = doc.maildrop_query_format_string ?? need('maildrop_query_format_string');
  const jwks = doc.jwks === undefined ? undefined : jwksSource(doc.jwks, personalityDir, at('jwks'));
  const introspection = toIntrospection(doc, personalityDir, at);
  if (jwks === undefined && introspection === undefined) {
    throw C11nError.at(at(), 'section "oauth2" needs "jwks" (the provider\'s keys) or "introspection_url" (RFC 7662), or both');
  }
  if (doc.jwks_ca !== undefined && jwks?.kind !== 'url' && introspection === undefined) {
    throw C11nError.at(at('jwks_ca'), '"jwks_ca" is for an https jwks or introspection_url, and neither is set');
  }
  return {
    jwks,
    ca: doc.jwks_ca === undefined ? undefined : readCa(path.resolve(personalityDir, doc.jwks_ca), at('jwks_ca')),
    issuer,
    audiences,
    usernameClaim: doc.username_claim,
    scopes: doc.scope === undefined ? [] : doc.scope.split(/\s+/).filter((s) => s !== ''),
    introspection,
    maildropQuery,
  };
}

function toIntrospection(doc: OAuth2Doc, personalityDir: string, at: (key?: string) => Pos): IntrospectionConfig | undefined {
  const url = doc.introspection_url;
  if (url === undefined) {
    for (const key of ['introspection_client_id', 'introspection_client_secret', 'introspection_client_secret_file'] as const) {
      if (doc[key] !== undefined) throw C11nError.at(at(key), `"${key}" is for introspection_url, which is not set`);
    }
    return undefined;
  }
  const clientId = doc.introspection_client_id;
  if (clientId === undefined) throw C11nError.at(at('introspection_url'), 'introspection_url needs introspection_client_id (and its secret)');
  return { url, clientId, clientSecret: clientSecret(doc, personalityDir, at) };
}

function clientSecret(doc: OAuth2Doc, personalityDir: string, at: (key?: string) => Pos): string {
  const file = doc.introspection_client_secret_file;
  if (file === undefined) {
    if (doc.introspection_client_secret === undefined || doc.introspection_client_secret === '') {
      throw C11nError.at(at('introspection_url'), 'introspection_url needs introspection_client_secret_file (or introspection_client_secret)');
    }
    return doc.introspection_client_secret;
  }
  if (doc.introspection_client_secret !== undefined) {
    throw C11nError.at(at('introspection_client_secret_file'), '"introspection_client_secret" and "introspection_client_secret_file" are the same setting: keep one');
  }
  const read = readSecretFile(path.resolve(personalityDir, file));
  if (read.error !== undefined) throw C11nError.at(at('introspection_client_secret_file'), `introspection_client_secret_file ${JSON.stringify(file)}: ${read.error}`);
  return read.secret;
}

/** An https URL, or a JWKS file read (and checked) now; relative paths are against the personality folder. */
function jwksSource(value: string, personalityDir: string, at: Pos): JwksSource {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    const wrong = checkHttpsUrl(value);
    if (wrong !== undefined) throw C11nError.at(at, `"jwks" ${wrong}`);
    return { kind: 'url', url: value };
  }
  const file = path.resolve(personalityDir, value);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw C11nError.at(at, `"jwks": cannot read ${file}: ${ioReason(error)}`);
  }
  const wrong = checkJwksText(text);
  if (wrong !== undefined) throw C11nError.at(at, `"jwks": ${file} ${wrong}`);
  return { kind: 'file', path: file, text };
}

/** Asymmetric public keys only: HMAC secrets (kty oct) and private keys do not belong in a JWKS r2d2 reads. */
export function checkJwksText(text: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'is not JSON';
  }
  const keys = typeof parsed === 'object' && parsed !== null ? (parsed as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(keys) || keys.length === 0) return 'is not a JWKS: it needs a non-empty "keys" array';
  for (const [i, key] of keys.entries()) {
    if (typeof key !== 'object' || key === null) return `key ${i + 1} is not an object`;
    const record = key as Record<string, unknown>;
    if (record['kty'] !== 'RSA' && record['kty'] !== 'EC' && record['kty'] !== 'OKP') {
      return `key ${i + 1} has kty ${JSON.stringify(record['kty'])}: only RSA, EC and OKP public keys are accepted`;
    }
    if ('d' in record) return `key ${i + 1} is a private key: publish only the public part`;
  }
  return undefined;
}

function readCa(file: string, at: Pos): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw C11nError.at(at, `"jwks_ca": cannot read ${file}: ${ioReason(error)}`);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw C11nError.at(at, `"jwks_ca": ${file} holds no PEM certificate`);
  return text;
}
