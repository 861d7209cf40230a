// The `auth_http { }` section: r2d2 as nginx's mail auth_http server (server/auth-http.ts).
// Declared here and plugged into r2d2-schema.ts (one key, one line in toConfig).
import { isIP } from 'node:net';
import { C11nError } from './errors';
import { trustedProxiesKey } from './proxy-schema';
import { here, int, section, str } from './schema';
import type { AuthHttpConfig, ListenerConfig } from './types';

/** The endpoint's name among the sockets the supervisor binds (a listen section may not take it). */
export const AUTH_HTTP_ENDPOINT = 'auth_http';

const notEmpty = (s: string): string | undefined => (s === '' ? 'must not be empty' : undefined);

export const authHttpSchema = section({
  // Loopback by default: nginx on this host asks.
  address: str().check(notEmpty).default('127.0.0.1'),
  // 0 asks the system for a free port (tests).
  port: int({ min: 0, max: 65535 }),
  // Whose Client-IP header is believed; the top-level trusted_proxies when absent.
  trusted_proxies: trustedProxiesKey(),
  // The backend for a row without a host (or port) column, or NULL there.
  default_host: str().check(notEmpty).default('127.0.0.1'),
  default_port: int({ min: 1, max: 65535 }).default(110),
});

type AuthHttpDoc = ReturnType<(typeof authHttpSchema)['body']>;

/** The section as an AuthHttpConfig; undefined when the personality has none. */
export function toAuthHttp(
  doc: AuthHttpDoc,
  present: boolean,
  topLevel: readonly string[] | undefined,
  listeners: readonly ListenerConfig[],
): AuthHttpConfig | undefined {
  if (!present) return undefined;
  if (doc.port === undefined) throw C11nError.at(here(doc), 'missing required "port" in section "auth_http"');
  if (!isIP(doc.default_host) && !/^[A-Za-z0-9.-]+$/.test(doc.default_host)) {
    throw C11nError.at(here(doc, 'default_host'), `"default_host" must be an address or a host name, got ${JSON.stringify(doc.default_host)}`);
  }
  for (const l of listeners) {
    if (l.name === AUTH_HTTP_ENDPOINT) throw C11nError.at(here(doc), `listen "${AUTH_HTTP_ENDPOINT}": that name is the auth_http section's; rename the listen section`);
    if (doc.port !== 0 && l.port === doc.port && l.address === doc.address) {
      throw C11nError.at(here(doc, 'port'), `auth_http uses ${doc.address}:${doc.port}, already used by listen "${l.name}"`);
    }
  }
  return {
    address: doc.address,
    port: doc.port,
    trustedProxies: doc.trusted_proxies ?? topLevel ?? [],
    defaultHost: doc.default_host,
    defaultPort: doc.default_port,
  };
}
