// The sockets the supervisor binds besides the POP3 listeners, once at start (a SIGHUP does not
// move them: a change of address or port is logged as needing a restart): nginx's auth_http
// endpoint, of which every worker thread gets a dup, and the metrics endpoint, served by the
// engine's main thread alone.
import { AUTH_HTTP_ENDPOINT } from '../config/auth-http-schema';
import { METRICS_ENDPOINT } from '../config/metrics-schema';
import type { Config } from '../config/types';

export { AUTH_HTTP_ENDPOINT } from '../config/auth-http-schema';
export { METRICS_ENDPOINT } from '../config/metrics-schema';

export interface Endpoint {
  readonly name: string;
  readonly address: string;
  readonly port: number;
}

/** Every fixed endpoint the personality configures. */
export function fixedEndpoints(config: Config): Endpoint[] {
  return [...workerEndpoints(config), ...(config.metrics === undefined ? [] : [{ name: METRICS_ENDPOINT, address: config.metrics.address, port: config.metrics.port }])];
}

/** Those a worker thread serves besides its listeners. */
export function workerEndpoints(config: Config): Endpoint[] {
  const auth = config.authHttp;
  return auth === undefined ? [] : [{ name: AUTH_HTTP_ENDPOINT, address: auth.address, port: auth.port }];
}

/** How the operator reads an endpoint's name in an error: `metrics`, `auth_http`, `listen "pop3"`. */
export function endpointLabel(name: string): string {
  return name === METRICS_ENDPOINT ? 'metrics' : name === AUTH_HTTP_ENDPOINT ? 'auth_http' : `listen "${name}"`;
}
