// What a token's claims must say, whichever way they were obtained (a verified JWT, or an
// introspection answer): who the user is, that the name is one the provider vouches for, and
// the scopes the operator requires.
import type { OAuth2Config } from '../../config/types';

/** `exp` and `nbf` are judged with this much clock difference allowed between r2d2 and the provider. */
export const CLOCK_LEEWAY_SECONDS = 30;
/** A user name longer than this is no login name (the accounts table's column is shorter). */
const MAX_USER_LENGTH = 255;

export type Claims = Readonly<Record<string, unknown>>;

export type TokenVerdict =
  | { readonly kind: 'valid'; readonly claims: Claims }
  /** The token is not accepted; `reason` is for the log (it never holds the token). */
  | { readonly kind: 'invalid'; readonly reason: string }
  /** The keys or the introspection endpoint cannot be reached: nothing can be decided now. */
  | { readonly kind: 'unavailable'; readonly reason: string };

export type ClaimRules = Pick<OAuth2Config, 'usernameClaim' | 'scopes'>;

/** The token's user (the configured claim), or why the claims do not name one r2d2 may serve. */
export function userOfClaims(claims: Claims, rules: ClaimRules): { readonly user: string } | { readonly reason: string } {
  const user = claims[rules.usernameClaim];
  if (typeof user !== 'string' || user === '') return { reason: `no "${rules.usernameClaim}" claim` };
  if (user.length > MAX_USER_LENGTH || /[\x00-\x1f\x7f]/.test(user)) return { reason: `the "${rules.usernameClaim}" claim is not a login name` };
  // An address the user typed into the provider's account page and never confirmed is no proof
  // of owning that mailbox (the "nOAuth" mistake): a provider that says so is believed.
  if (rules.usernameClaim === 'email' && claims['email_verified'] === false) return { reason: 'the email claim is not verified (email_verified: false)' };
  const missing = rules.scopes.filter((s) => !scopesOf(claims).has(s));
  if (missing.length > 0) return { reason: `scope ${missing.join(' ')} not granted` };
  return { user };
}

/** RFC 8693 / RFC 9068 `scope` (space-separated), or Azure AD's `scp` (a string or a list). */
function scopesOf(claims: Claims): Set<string> {
  const out = new Set<string>();
  for (const value of [claims['scope'], claims['scp']]) {
    const items = typeof value === 'string' ? value.split(' ') : Array.isArray(value) ? value : [];
    for (const item of items) if (typeof item === 'string' && item !== '') out.add(item);
  }
  return out;
}

/** RFC 7519 §4.1.4/§4.1.5 for claims r2d2 checks itself (introspection answers): seconds since the epoch. */
export function timeProblem(claims: Claims, nowMs: number): string | undefined {
  const now = nowMs / 1000;
  const exp = claims['exp'];
  const nbf = claims['nbf'];
  if (typeof exp === 'number' && now - CLOCK_LEEWAY_SECONDS >= exp) return 'expired';
  if (typeof nbf === 'number' && now + CLOCK_LEEWAY_SECONDS < nbf) return 'not yet valid';
  return undefined;
}

/** RFC 7519 §4.1.3: `aud` is one string or a list; one of them must be ours. */
export function audienceMatches(claims: Claims, audiences: readonly string[]): boolean {
  const aud = claims['aud'];
  const list = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
  return list.some((a) => typeof a === 'string' && audiences.includes(a));
}
