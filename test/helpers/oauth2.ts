// An identity provider's side for token-login tests: signing keys made with the real openssl
// (RSA, EC P-256, Ed25519), the JWKS file of their public halves, tokens signed with jose, and
// the client messages of SASL OAUTHBEARER (RFC 7628) and XOAUTH2.
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';

export const ISSUER = 'https://sso.example.test/realms/mail';
export const AUDIENCE = 'pop3';
/** What the test configures: the main audience and a second one a token may carry instead. */
export const AUDIENCES = [AUDIENCE, 'mail-clients'];

export interface SigningKey {
  readonly kid: string;
  readonly alg: 'RS256' | 'ES256' | 'EdDSA';
  readonly privateKey: KeyObject;
  /** The public JWK as a JWKS lists it. */
  readonly jwk: Readonly<Record<string, unknown>>;
}

export interface TokenKeys {
  readonly dir: string;
  readonly rsa: SigningKey;
  readonly ec: SigningKey;
  readonly ed: SigningKey;
  /** An RSA key no JWKS lists (a forger's key). */
  readonly stray: SigningKey;
  /** The JWKS file of rsa, ec and ed. */
  readonly jwksFile: string;
  remove(): void;
}

const OPENSSL_KEYS = {
  RS256: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
  ES256: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  EdDSA: ['-algorithm', 'ED25519'],
} as const;

/** A private key made by openssl genpkey, and its public JWK. */
export function opensslKey(dir: string, kid: string, alg: SigningKey['alg']): SigningKey {
  const file = join(dir, `${kid}.key`);
  execFileSync('openssl', ['genpkey', ...OPENSSL_KEYS[alg], '-out', file], { stdio: 'pipe' });
  const privateKey = createPrivateKey(readFileSync(file));
  const jwk = { ...createPublicKey(privateKey).export({ format: 'jwk' }), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, jwk };
}

export function jwksOf(...keys: readonly SigningKey[]): { keys: Record<string, unknown>[] } {
  return { keys: keys.map((k) => ({ ...k.jwk })) };
}

export function makeTokenKeys(): TokenKeys {
  const dir = mkdtempSync(join(tmpdir(), 'r2d2-oauth2-'));
  const rsa = opensslKey(dir, 'rsa-1', 'RS256');
  const ec = opensslKey(dir, 'ec-1', 'ES256');
  const ed = opensslKey(dir, 'ed-1', 'EdDSA');
  const stray = opensslKey(dir, 'stray', 'RS256');
  const jwksFile = join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify(jwksOf(rsa, ec, ed)));
  return { dir, rsa, ec, ed, stray, jwksFile, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export type Claims = Record<string, unknown>;

/** A token's usual claims for `email`, valid for five minutes; `overrides` replace them (undefined removes one). */
export function claimsFor(email: string, overrides: Claims = {}): Claims {
  const now = Math.floor(Date.now() / 1000);
  const claims: Claims = { iss: ISSUER, aud: AUDIENCE, sub: `id-${email}`, iat: now, exp: now + 300, email, email_verified: true, ...overrides };
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
  return claims;
}

/** Signs with `key`; the header names `kid` (the key's own unless given; null for none). */
export function sign(key: SigningKey, claims: Claims, kid: string | null = key.kid): Promise<string> {
  return new SignJWT(claims).setProtectedHeader(kid === null ? { alg: key.alg } : { alg: key.alg, kid }).sign(key.privateKey);
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An unsecured JWT (RFC 7519 §6): `alg: none`, no signature. */
export function unsignedToken(claims: Claims): string {
  return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`;
}

/** An HS256 token whose HMAC secret is the RSA key's public JWK text (the classic key-confusion forgery). */
export async function hmacToken(key: SigningKey, claims: Claims): Promise<string> {
  const secret = new TextEncoder().encode(JSON.stringify(key.jwk));
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: key.kid }).sign(secret);
}

/** RFC 7628 §3.1's client response, base64: n,a=USER,^Ahost=...^Aport=...^Aauth=Bearer TOKEN^A^A. */
export function oauthBearer(user: string | undefined, token: string, header?: string): string {
  const gs2 = header ?? `n,${user === undefined ? '' : `a=${user.replace(/=/g, '=3D').replace(/,/g, '=2C')}`},`;
  return Buffer.from(`${gs2}\x01host=127.0.0.1\x01port=110\x01auth=Bearer ${token}\x01\x01`).toString('base64');
}

/** Google's XOAUTH2, base64: user=USER^Aauth=Bearer TOKEN^A^A. */
export function xoauth2(user: string, token: string): string {
  return Buffer.from(`user=${user}\x01auth=Bearer ${token}\x01\x01`).toString('base64');
}

/** The c11n oauth2 section the tests use, with `more` keys added; the query reads the example `mailbox` table. */
export function oauth2Section(more: string, query = 'SELECT maildir FROM mailbox WHERE username = %u AND active = 1'): string {
  return `oauth2 {
  issuer = "${ISSUER}"
  audience = {${AUDIENCES.map((a) => `"${a}"`).join(', ')}}
  maildrop_query_format_string = "${query}"
  ${more}
}`;
}
