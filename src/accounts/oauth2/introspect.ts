// RFC 7662 token introspection, for opaque tokens (and for every token when no jwks is set):
// the provider says whether the token is active and whose it is. r2d2 still checks what it
// would check in a JWT: exp/nbf, issuer when given, and an audience of its own (required).
import type { IntrospectionConfig } from '../../config/types';
import { audienceMatches, timeProblem, type TokenVerdict } from './claims';
import { HttpsJsonError, httpsJson } from './https-json';

/** The provider has this long to answer one introspection. */
export const INTROSPECTION_TIMEOUT_MS = 5000;
const MAX_ANSWER_OCTETS = 64 * 1024;

export interface IntrospectionRules {
  readonly issuer: string;
  readonly audiences: readonly string[];
  /** PEM of the private CA (jwks_ca), or undefined for the system's. */
  readonly ca: string | undefined;
}

export async function introspect(token: string, endpoint: IntrospectionConfig, rules: IntrospectionRules, nowMs: number): Promise<TokenVerdict> {
  let answer: unknown;
  try {
    answer = await httpsJson({
      url: endpoint.url,
      ca: rules.ca,
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        // RFC 6749 §2.3.1: client id and secret form-encoded, then HTTP Basic.
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(endpoint.clientId)}:${encodeURIComponent(endpoint.clientSecret)}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
      timeoutMs: INTROSPECTION_TIMEOUT_MS,
      maxOctets: MAX_ANSWER_OCTETS,
    });
  } catch (error) {
    if (error instanceof HttpsJsonError) return { kind: 'unavailable', reason: `introspection: ${error.message}` };
    throw error;
  }
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) return { kind: 'unavailable', reason: 'introspection: the answer is not a JSON object' };
  const claims = answer as Record<string, unknown>;
  // RFC 7662 §2.2: anything but "active": true is an inactive token (revoked, expired, unknown).
  if (claims['active'] !== true) return { kind: 'invalid', reason: 'not active (introspection)' };
  const time = timeProblem(claims, nowMs);
  if (time !== undefined) return { kind: 'invalid', reason: time };
  if (claims['iss'] !== undefined && claims['iss'] !== rules.issuer) return { kind: 'invalid', reason: 'wrong issuer' };
  if (!audienceMatches(claims, rules.audiences)) return { kind: 'invalid', reason: 'wrong audience' };
  return { kind: 'valid', claims };
}
