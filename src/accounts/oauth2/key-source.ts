// The identity provider's public keys (a JWKS), kept in memory and refreshed: when they are
// old, and when a token names a key id they lack (the provider rotated its key), but for an
// unknown kid at most once a minute, so a stream of made-up kids cannot make r2d2 hammer the
// provider (or re-read the file) on every login.
import { createLocalJWKSet, errors, type FlattenedJWSInput, type JSONWebKeySet, type JWSHeaderParameters, type KeyLike } from 'jose';
import type { Logger } from 'pino';

/** An unknown kid refreshes the keys at most this often. */
export const UNKNOWN_KID_REFRESH_MS = 60_000;
/** Keys older than this are fetched again at the next login (a revoked key stops working). */
export const KEYS_MAX_AGE_MS = 10 * 60_000;
/** After a failed refresh, the keys held are used this long before the next try. */
const RETRY_AFTER_FAILURE_MS = 60_000;

/** The keys cannot be had (no answer, not a JWKS): a login cannot be decided now. */
export class KeysUnavailable extends Error {
  override readonly name = 'KeysUnavailable';
}

type Resolver = (header?: JWSHeaderParameters, token?: FlattenedJWSInput) => Promise<KeyLike>;

export class KeySource {
  private resolver: Resolver | undefined;
  /** When the keys held were loaded (or a refresh last failed). */
  private loadedAt = 0;
  private lastUnknownKidRefresh = Number.NEGATIVE_INFINITY;
  private loading: Promise<void> | undefined;

  /**
   * `load`: fetches or reads the JWKS document; `initial`: a document already read (the file
   * check-config read), used before the first load.
   */
  constructor(
    private readonly load: () => Promise<unknown>,
    private readonly describe: string,
    private readonly log: () => Logger,
    private readonly now: () => number = Date.now,
    initial?: unknown,
  ) {
    if (initial !== undefined) {
      this.resolver = toResolver(initial);
      this.loadedAt = now();
    }
  }

  /** jose's key resolver for jwtVerify: the key the token's header names. */
  readonly resolve = async (header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<KeyLike> => {
    if (this.resolver === undefined || this.now() - this.loadedAt > KEYS_MAX_AGE_MS) await this.refresh();
    const resolver = this.resolver;
    if (resolver === undefined) throw new KeysUnavailable(`${this.describe}: no keys`);
    try {
      return await resolver(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || this.now() - this.lastUnknownKidRefresh < UNKNOWN_KID_REFRESH_MS) throw error;
      this.lastUnknownKidRefresh = this.now();
      await this.refresh();
      const fresh = this.resolver;
      if (fresh === undefined || fresh === resolver) throw error;
      return fresh(header, token);
    }
  };

  /** One load at a time; logins waiting for keys share it. */
  private refresh(): Promise<void> {
    this.loading ??= this.reload().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async reload(): Promise<void> {
    try {
      const resolver = toResolver(await this.load());
      this.resolver = resolver;
      this.loadedAt = this.now();
      this.log().info({ jwks: this.describe }, 'oauth2 keys loaded');
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      // Keys held go on working (the provider may be down for a moment); without any, logins wait for it.
      this.loadedAt = this.resolver === undefined ? 0 : this.now() - KEYS_MAX_AGE_MS + RETRY_AFTER_FAILURE_MS;
      this.log().warn({ jwks: this.describe, reason }, this.resolver === undefined ? 'oauth2 keys cannot be loaded' : 'oauth2 keys cannot be refreshed: keeping the old ones');
      if (this.resolver === undefined) throw new KeysUnavailable(`${this.describe}: ${reason}`);
    }
  }
}

function toResolver(document: unknown): Resolver {
  const keys = typeof document === 'object' && document !== null ? (document as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(keys)) throw new Error('not a JWKS (no "keys" array)');
  return createLocalJWKSet(document as JSONWebKeySet);
}
