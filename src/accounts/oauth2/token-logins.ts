// A token login: the token checked (JWT against the provider's keys, else RFC 7662
// introspection), its user taken from the configured claim and matched against the user the
// client named, then the oauth2 section's own maildrop query run for that user on the
// accounts database. The token itself goes nowhere but to jose and the introspection endpoint.
import { readFile } from 'node:fs/promises';
import { decodeJwt } from 'jose';
import type { Logger } from 'pino';
import type { OAuth2Config } from '../../config/types';
import type { LoginResult, TokenLoginRequest, TokenLoginResult, TokenLogins } from '../accounts';
import { userOfClaims, type TokenVerdict } from './claims';
import { httpsJson } from './https-json';
import { introspect } from './introspect';
import { KeySource } from './key-source';
import { looksLikeJwt, verifyJwt } from './verify-jwt';

/** The provider has this long to send its JWKS. */
export const JWKS_TIMEOUT_MS = 5000;
const MAX_JWKS_OCTETS = 1024 * 1024;

/** Runs the oauth2 maildrop query for the token's user (%u). */
export type FindMaildrop = (user: string, peer: string) => Promise<LoginResult>;

export class OAuth2Logins implements TokenLogins {
  private readonly keys: KeySource | undefined;

  constructor(
    private readonly config: OAuth2Config,
    private readonly findMaildrop: FindMaildrop,
    log: () => Logger,
    private readonly now: () => number = Date.now,
  ) {
    const jwks = config.jwks;
    if (jwks?.kind === 'file') {
      this.keys = new KeySource(async () => JSON.parse(await readFile(jwks.path, 'utf8')) as unknown, jwks.path, log, now, JSON.parse(jwks.text));
    } else if (jwks?.kind === 'url') {
      const load = (): Promise<unknown> => httpsJson({ url: jwks.url, ca: config.ca, timeoutMs: JWKS_TIMEOUT_MS, maxOctets: MAX_JWKS_OCTETS });
      this.keys = new KeySource(load, jwks.url, log, now);
    }
  }

  get scopes(): readonly string[] {
    return this.config.scopes;
  }

  async authenticate(request: TokenLoginRequest): Promise<TokenLoginResult> {
    const verdict = await this.verify(request.token);
    if (verdict.kind === 'unavailable') return verdict;
    if (verdict.kind === 'invalid') return { kind: 'invalid', reason: verdict.reason, user: request.user ?? this.unverifiedUser(request.token) };
    const who = userOfClaims(verdict.claims, this.config);
    if ('reason' in who) return { kind: 'invalid', reason: who.reason, user: request.user };
    // The authzid only confirms whom the client means; the query gets the token's own user.
    if (request.user !== undefined && request.user.toLowerCase() !== who.user.toLowerCase()) {
      return { kind: 'invalid', reason: `the token is ${JSON.stringify(who.user)}'s`, user: request.user };
    }
    const found = await this.findMaildrop(who.user, request.peer);
    if (found.kind === 'denied') return { kind: 'invalid', reason: 'no account for the token\'s user', user: who.user };
    if (found.kind === 'refused') return { kind: 'refused', user: who.user, reason: found.reason };
    return { kind: 'ok', user: who.user, maildir: found.maildir, account: found.account ?? who.user };
  }

  private verify(token: string): Promise<TokenVerdict> {
    const { config } = this;
    if (this.keys !== undefined && looksLikeJwt(token)) return verifyJwt(token, this.keys, config, new Date(this.now()));
    if (config.introspection !== undefined) return introspect(token, config.introspection, config, this.now());
    return Promise.resolve({ kind: 'invalid', reason: 'not a JWT (and no introspection_url for opaque tokens)' });
  }

  /** For the log and the failed-login counters only: the name an unverified token claims. */
  private unverifiedUser(token: string): string | undefined {
    try {
      const claimed = decodeJwt(token)[this.config.usernameClaim];
      return typeof claimed === 'string' && claimed !== '' ? claimed : undefined;
    } catch {
      return undefined;
    }
  }
}
