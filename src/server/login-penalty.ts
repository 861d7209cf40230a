import { createHash } from 'node:crypto';
import { foldLogin } from '../accounts/fold-login';
import type { LoginPenalty } from '../pop3/commands/context';
import type { FadingCounts } from './shared-tables';

/** Failed logins remembered to spot a client retrying the same wrong password. */
const REMEMBERED_FAILURES = 4096;

/**
 * How long a failed login waits before its -ERR: `base * 2^(n-1)` up to `max`, where n is the
 * larger of the recent failures from the client's address and for the login name (so neither
 * many names from one address nor one name from many addresses gets cheap guesses; names are
 * folded as the database's collation compares them, see accounts/fold-login.ts). Retrying
 * the same name and password does not escalate: that is a misconfigured client, not a guess.
 * Unknown users and wrong passwords wait alike.
 */
export class PenaltyPolicy implements LoginPenalty {
  private readonly recent = new Set<string>();

  constructor(
    private readonly counts: FadingCounts,
    private readonly baseMs: number,
    private readonly maxMs: number,
  ) {}

  failed(peer: string, user: string, password: string): number {
    if (this.baseMs === 0) return 0;
    const fingerprint = createHash('sha256').update(`${foldLogin(user)}\0${password}`).digest('base64');
    const repeat = this.recent.has(fingerprint);
    if (!repeat) this.remember(fingerprint);
    const byAddress = repeat ? this.counts.get(addressKey(peer)) : this.counts.increment(addressKey(peer));
    const byName = repeat ? this.counts.get(nameKey(user)) : this.counts.increment(nameKey(user));
    const n = Math.max(byAddress, byName, 1);
    return Math.min(this.maxMs, this.baseMs * 2 ** Math.min(n - 1, 20));
  }

  /**
   * A success clears the count of the account that logged in, never the address's: an attacker
   * logging into an account of their own between guesses must not reset their brake.
   */
  succeeded(user: string): void {
    this.counts.reset(nameKey(user));
  }

  private remember(fingerprint: string): void {
    if (this.recent.size >= REMEMBERED_FAILURES) {
      const oldest = this.recent.values().next().value;
      if (oldest !== undefined) this.recent.delete(oldest);
    }
    this.recent.add(fingerprint);
  }
}

const addressKey = (peer: string): string => `a:${peer}`;
const nameKey = (user: string): string => `u:${foldLogin(user)}`;
