// RFC 2449's policy capabilities as one session sees them: LOGIN-DELAY (§6.5, refused with
// [LOGIN-DELAY], §8.1.1) and EXPIRE (§6.7). The server's defaults come from the `policy`
// section; the maildrop query's `login_delay` and `expire` columns override them per user, and
// then CAPA before login says USER after the default.
import type { UserPolicy } from '../accounts/policy-columns';
import type { ExpireDays, PolicyConfig } from '../config/types';
import type { LoginClaim, LoginHistory } from './commands/context';

/** What applies to one logged-in user. */
export interface UserTerms {
  /** 0 = none. */
  readonly loginDelaySeconds: number;
  /** undefined: EXPIRE is not in play on this server (nothing is announced, nothing expires). */
  readonly expire: ExpireDays | undefined;
}

/** The user's values, the server's where the row has none. */
export function termsFor(policy: PolicyConfig, user: UserPolicy | undefined): UserTerms {
  const announced = policy.expire !== undefined || policy.expirePerUser;
  return {
    loginDelaySeconds: user?.loginDelaySeconds ?? policy.loginDelaySeconds,
    // A NULL expire with no default is what r2d2 does without a policy: it never expires mail.
    expire: announced ? (user?.expire ?? policy.expire ?? 'never') : undefined,
  };
}

/** The CAPA lines: before login the server's defaults (USER where they vary), after it the user's. */
export function policyCapabilities(policy: PolicyConfig, terms: UserTerms | undefined): string[] {
  const lines: string[] = [];
  if (terms !== undefined) {
    if (terms.loginDelaySeconds > 0) lines.push(`LOGIN-DELAY ${terms.loginDelaySeconds}`);
    if (terms.expire !== undefined) lines.push(`EXPIRE ${expireText(terms.expire)}`);
    return lines;
  }
  if (policy.loginDelayPerUser) lines.push(`LOGIN-DELAY ${policy.loginDelaySeconds} USER`);
  else if (policy.loginDelaySeconds > 0) lines.push(`LOGIN-DELAY ${policy.loginDelaySeconds}`);
  const expire = termsFor(policy, undefined).expire;
  if (expire !== undefined) lines.push(`EXPIRE ${expireText(expire)}${policy.expirePerUser ? ' USER' : ''}`);
  return lines;
}

const expireText = (expire: ExpireDays): string => (expire === 'never' ? 'NEVER' : String(expire));

/** Is the login delay in play at all? Without it logins are not even recorded in host memory. */
export function loginDelayInPlay(policy: PolicyConfig): boolean {
  return policy.loginDelaySeconds > 0 || policy.loginDelayPerUser;
}

export type DelayVerdict = Extract<LoginClaim, { kind: 'claimed' }> | { readonly kind: 'too-soon'; readonly waitSeconds: number };

/**
 * Takes the login for `account` unless its previous one -- the query's `last_login`, or this
 * host's memory of every worker thread's logins -- is less than the user's delay ago. A claim
 * is undone when the maildrop then cannot be opened: only a login that happened counts.
 */
export function claimLogin(policy: PolicyConfig, terms: UserTerms, user: UserPolicy | undefined, history: LoginHistory, account: string, nowMs: number): DelayVerdict {
  const noClaim: DelayVerdict = { kind: 'claimed', undo: () => undefined };
  if (!loginDelayInPlay(policy)) return noClaim;
  const delayMs = terms.loginDelaySeconds * 1000;
  const last = user?.lastLoginMs;
  if (delayMs > 0 && last !== undefined && nowMs - last < delayMs) return tooSoon(last, delayMs, nowMs);
  const claim = history.claim(account, nowMs, delayMs);
  return claim.kind === 'claimed' ? claim : tooSoon(claim.previousMs, delayMs, nowMs);
}

function tooSoon(previousMs: number, delayMs: number, nowMs: number): DelayVerdict {
  return { kind: 'too-soon', waitSeconds: Math.max(1, Math.ceil((previousMs + delayMs - nowMs) / 1000)) };
}
