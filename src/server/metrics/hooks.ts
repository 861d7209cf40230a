// The hooks the server calls for metrics (server.ts, connection.ts), beside pop3/'s SessionMetrics
// and accounts/' AccountsProbe. With no `metrics` section the server gets NO_METRICS: its calls
// do nothing, and prom-client is never loaded (worker.ts loads worker-metrics.ts only when asked).
import { NO_ACCOUNTS_PROBE, type AccountsProbe } from '../../accounts/probe';
import { NO_SESSION_METRICS, type SessionMetrics } from '../../pop3/metrics';
import type { CloseReason } from '../../pop3/state';

/** A TLS handshake: the version negotiated, or why it failed (tls-outcome.ts). */
export type HandshakeOutcome = { readonly ok: true; readonly version: string } | { readonly ok: false; readonly reason: string };

/** One listener's figures; made once per listener, so no label is looked up per call. */
export interface ListenerMetrics {
  /** A connection was accepted (before limits and TLS). */
  accepted(): void;
  /** A connection was refused by a limit (`max_connections_per_address`, `max_connections`). */
  refused(limit: string): void;
  /** A TLS handshake ended, implicit or after STLS. */
  handshake(outcome: HandshakeOutcome): void;
  started(): void;
  ended(reason: CloseReason): void;
  /** Reply bytes handed to the socket (before TLS). */
  sent(data: string | readonly Buffer[]): void;
}

export interface Metrics {
  listener(name: string): ListenerMetrics;
  readonly session: SessionMetrics;
  readonly accounts: AccountsProbe;
}

const nothing = (): void => undefined;

const NO_LISTENER_METRICS: ListenerMetrics = {
  accepted: nothing,
  refused: nothing,
  handshake: nothing,
  started: nothing,
  ended: nothing,
  sent: nothing,
};

export const NO_METRICS: Metrics = {
  listener: () => NO_LISTENER_METRICS,
  session: NO_SESSION_METRICS,
  accounts: NO_ACCOUNTS_PROBE,
};
