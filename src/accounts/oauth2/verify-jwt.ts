// A JWT access token verified locally with jose against the provider's keys: signature with an
// asymmetric algorithm only, exp/nbf with a small leeway, issuer, audience.
import { errors, jwtVerify } from 'jose';
import { CLOCK_LEEWAY_SECONDS, type TokenVerdict } from './claims';
import { KeysUnavailable, type KeySource } from './key-source';

/**
 * RSA, P-256 and Ed25519 signatures. Never `none` and never HMAC: an HS256 token "signed" with
 * the public key as the secret is the classic forgery, and a shared secret has no place here.
 */
export const ALGORITHMS: readonly string[] = ['RS256', 'ES256', 'EdDSA'];

/** Three base64url parts: what jose can verify; anything else is an opaque token. */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

export interface JwtRules {
  readonly issuer: string;
  readonly audiences: readonly string[];
}

export async function verifyJwt(token: string, keys: KeySource, rules: JwtRules, now: Date): Promise<TokenVerdict> {
  try {
    const { payload } = await jwtVerify(token, keys.resolve, {
      algorithms: [...ALGORITHMS],
      issuer: rules.issuer,
      audience: [...rules.audiences],
      clockTolerance: CLOCK_LEEWAY_SECONDS,
      requiredClaims: ['exp'],
      currentDate: now,
    });
    return { kind: 'valid', claims: payload };
  } catch (error) {
    if (error instanceof KeysUnavailable) return { kind: 'unavailable', reason: error.message };
    return { kind: 'invalid', reason: reasonOf(error) };
  }
}

/** jose's error as a few words for the log. */
function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'nbf':
        return 'not yet valid';
      case 'iss':
        return 'wrong issuer';
      case 'aud':
        return 'wrong audience';
      default:
        return `claim ${error.claim}: ${error.reason}`;
    }
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad signature';
  if (error instanceof errors.JWKSNoMatchingKey) return 'signed by an unknown key';
  if (error instanceof errors.JWKSMultipleMatchingKeys) return 'no kid, and several keys fit';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (error instanceof errors.JOSEError) return `malformed token (${error.code})`;
  return `cannot be verified: ${error instanceof Error ? error.message : String(error)}`;
}
