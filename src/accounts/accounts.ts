import type { UserPolicy } from './policy-columns';

/** Where a maildrop is served, from the row: for a proxy in front (server/auth-http.ts). */
export interface Route {
  readonly host?: string;
  readonly port?: string;
}

/** What a login asks of the account store. */
export interface LoginRequest {
  /** The login exactly as the client typed it. */
  readonly user: string;
  readonly password: string;
  /** The client's address. */
  readonly peer: string;
}

export type LoginResult =
  | {
      readonly kind: 'ok';
      readonly maildir: string;
      /** The user name the database returned (its `username` column), else the login as typed. */
      readonly account?: string;
      /** Which password matched when r2d2 verified a `password` column; absent when the query checked it in SQL. */
      readonly matched?: 'main' | 'app';
      /** The row's `host` and `port` columns, as text, when it has them (the backend, for nginx's auth_http). */
      readonly route?: Route;
      /** The row's login_delay, expire and last_login columns (RFC 2449 policy); absent values undefined. */
      readonly policy?: UserPolicy;
    }
  /** No such user, or a wrong password: the client cannot tell which (RFC 3206 [AUTH]). */
  | {
      readonly kind: 'denied';
      /** Set when the account exists (r2d2 verified its password column and none matched). */
      readonly account?: string;
    }
  /** The store answered, but with something r2d2 must not serve; `reason` is for the log only. */
  | { readonly kind: 'refused'; readonly reason: string };

/** A login with an OAuth2 bearer token (SASL OAUTHBEARER, XOAUTH2). */
export interface TokenLoginRequest {
  readonly token: string;
  /** The user the client named (OAUTHBEARER's authzid, XOAUTH2's user=): it must be the token's. */
  readonly user: string | undefined;
  readonly peer: string;
}

export type TokenLoginResult =
  /** `user`: the token's user (the configured claim), the name the session logs and answers with. */
  | { readonly kind: 'ok'; readonly user: string; readonly maildir: string; readonly account: string }
  /** Not accepted: a bad token, another user's, or no account for its user. `reason` is for the log. */
  | { readonly kind: 'invalid'; readonly reason: string; readonly user: string | undefined }
  /** The store answered with something r2d2 must not serve (as LoginResult's refused). */
  | { readonly kind: 'refused'; readonly user: string; readonly reason: string }
  /** The provider's keys or introspection endpoint cannot be reached: try again later. */
  | { readonly kind: 'unavailable'; readonly reason: string };

/** Token logins, when the personality has an `oauth2` section. */
export interface TokenLogins {
  authenticate(request: TokenLoginRequest): Promise<TokenLoginResult>;
  /** The scopes a token needs, for RFC 7628's failure challenge (empty: none named). */
  readonly scopes: readonly string[];
}

/**
 * The account store. Thrown errors mean "cannot answer now" (database down): the session
 * answers [SYS/TEMP] and the next login tries again.
 */
export interface Accounts {
  authenticate(request: LoginRequest): Promise<LoginResult>;
  /** OAuth2 token logins; undefined when none are configured (then CAPA offers no OAuth mechanism). */
  readonly tokens?: TokenLogins | undefined;
  /**
   * Runs last_login_query_format_string for a login that succeeded (a no-op without one).
   * Throws when the database cannot take it: the caller logs that, the login stands.
   */
  recordLogin?(request: LoginRequest): Promise<void>;
  close(): Promise<void>;
}
