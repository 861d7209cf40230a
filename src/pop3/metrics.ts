// What a POP3 session reports for metrics, as calls on a small interface: pop3/ knows nothing of
// Prometheus. server/metrics/ implements it over prom-client; with no `metrics` section the
// server passes NO_SESSION_METRICS, whose calls do nothing. No call carries a user name or an
// address: the figures are counts and durations only.

/** How the client logged in: USER/PASS, or AUTH PLAIN, LOGIN, OAUTHBEARER, XOAUTH2 (RFC 5034, 7628). */
export type LoginMechanism = 'user' | 'plain' | 'login' | 'oauthbearer' | 'xoauth2';

/**
 * How a login ended: in TRANSACTION (`ok`); no such user or a wrong password (`bad_credentials`);
 * the maildrop locked by another session (`locked`, RFC 2449 [IN-USE]); the account or maildrop
 * not served (`refused`, [SYS/PERM]); the database or the maildrop failing now (`temp_failure`).
 */
export type LoginResultLabel = 'ok' | 'bad_credentials' | 'locked' | 'refused' | 'temp_failure';

/** Where a login's time goes: the accounts query, verifying the stored hash, the maildrop lock, the scan. */
export type LoginStage = 'query' | 'hash' | 'lock' | 'scan';

export interface SessionMetrics {
  /** A login answered; `seconds` from the command to its answer, without the failed-login delay (absent when no store was asked). */
  login(mechanism: LoginMechanism, result: LoginResultLabel, seconds?: number): void;
  /** One stage of a login took `seconds`. */
  loginStage(stage: LoginStage, seconds: number): void;
  /** A failed login is made to wait `ms` (the brute-force brake). */
  penalty(ms: number): void;
  /** RETR or TOP answered with a message. */
  retrieved(command: 'retr' | 'top'): void;
  /** UPDATE removed `deleted` messages and could not remove `failed`. */
  deleted(deleted: number, failed: number): void;
}

const nothing = (): void => undefined;

export const NO_SESSION_METRICS: SessionMetrics = {
  login: nothing,
  loginStage: nothing,
  penalty: nothing,
  retrieved: nothing,
  deleted: nothing,
};

/** Seconds since `start` (a performance.now() reading). */
export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}
