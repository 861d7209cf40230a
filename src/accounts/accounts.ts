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
    }
  /** No such user, or a wrong password: the client cannot tell which (RFC 3206 [AUTH]). */
  | {
      readonly kind: 'denied';
      /** Set when the account exists (r2d2 verified its password column and none matched). */
      readonly account?: string;
    }
  /** The store answered, but with something r2d2 must not serve; `reason` is for the log only. */
  | { readonly kind: 'refused'; readonly reason: string };

/**
 * The account store. Thrown errors mean "cannot answer now" (database down): the session
 * answers [SYS/TEMP] and the next login tries again.
 */
export interface Accounts {
  authenticate(request: LoginRequest): Promise<LoginResult>;
  close(): Promise<void>;
}
