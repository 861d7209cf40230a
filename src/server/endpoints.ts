// The sockets the supervisor binds besides the POP3 listeners, once at start (a SIGHUP does not
// move them: a change of address, port or path is logged as needing a restart): nginx's
// auth_http endpoint and the LMTP sockets, of which every worker thread gets a dup, and the
// metrics endpoint, served by the engine's main thread alone.
import { AUTH_HTTP_ENDPOINT } from '../config/auth-http-schema';
import { LMTP_INET, LMTP_UNIX, lmtpListenerNames } from '../config/lmtp-schema';
import { METRICS_ENDPOINT } from '../config/metrics-schema';
import type { Config } from '../config/types';
import type { Credentials } from './credentials';
import { lmtpBindRequests, type BindRequest } from './lmtp-sockets';

export { AUTH_HTTP_ENDPOINT } from '../config/auth-http-schema';
export { METRICS_ENDPOINT } from '../config/metrics-schema';

/** What the binder binds: a TCP address and port, or a unix socket with its owner and mode. */
export type Endpoint = BindRequest;

/**
 * Every fixed endpoint the personality configures. `session`: who sessions run as (the LMTP
 * socket's default owner). Throws with a message for the operator (an unknown socket_user).
 */
export function fixedEndpoints(config: Config, session: Credentials | undefined): Endpoint[] {
  const auth = config.authHttp;
  const metrics = config.metrics;
  let lmtp: Endpoint[];
  try {
    lmtp = lmtpBindRequests(config, session);
  } catch (error) {
    throw new Error(`lmtp: ${(error as Error).message}`);
  }
  return [
    ...(auth === undefined ? [] : [{ name: AUTH_HTTP_ENDPOINT, address: auth.address, port: auth.port }]),
    ...(metrics === undefined ? [] : [{ name: METRICS_ENDPOINT, address: metrics.address, port: metrics.port }]),
    ...lmtp,
  ];
}

/** The names of those a worker thread serves besides its listeners. */
export function workerEndpoints(config: Config): string[] {
  return [...(config.authHttp === undefined ? [] : [AUTH_HTTP_ENDPOINT]), ...lmtpListenerNames(config.lmtp)];
}

/** How the operator reads an endpoint's name in an error: `metrics`, `auth_http`, `listen "pop3"`. */
export function endpointLabel(name: string): string {
  const fixed: Record<string, string> = { [METRICS_ENDPOINT]: 'metrics', [AUTH_HTTP_ENDPOINT]: 'auth_http', [LMTP_INET]: 'lmtp', [LMTP_UNIX]: 'lmtp socket' };
  return fixed[name] ?? `listen "${name}"`;
}
