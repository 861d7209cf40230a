// The PROXY protocol keys of a `listen` section (proxy_protocol, trusted_proxies,
// proxy_protocol_timeout) and the top-level trusted_proxies they default to. Plugged into
// r2d2-schema.ts.
import { isIPv4, isIPv6 } from 'node:net';
import { C11nError } from './errors';
import { bool, here, int, list, str } from './schema';

/** setTimeout's ceiling in whole seconds (as r2d2-schema.ts). */
const MAX_TIMER_SECONDS = 2_147_483;

/** `10.0.0.0/8`, `2001:db8::/32`, or one address (`127.0.0.1` = /32); undefined when good. */
export function checkCidr(text: string): string | undefined {
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const bits = slash === -1 ? undefined : text.slice(slash + 1);
  const max = isIPv4(address) ? 32 : isIPv6(address) && !address.includes('%') ? 128 : 0;
  if (max === 0) return `must be an address or a network (10.0.0.0/8, ::1/128), got ${JSON.stringify(text)}`;
  if (bits !== undefined && !(/^[0-9]{1,3}$/.test(bits) && Number(bits) <= max)) {
    return `has a prefix length that is not 0 to ${max}: ${JSON.stringify(text)}`;
  }
  return undefined;
}

export const trustedProxiesKey = () => list(str().check(checkCidr));

/** The keys a `listen` section adds for the PROXY protocol. */
export const listenProxyKeys = {
  // The PROXY protocol header (v1 or v2, as HAProxy and nginx send it) before anything else.
  proxy_protocol: bool().default(false),
  // Who may send it; the top-level trusted_proxies when absent.
  trusted_proxies: trustedProxiesKey(),
  // Seconds a trusted proxy has to send the header (3: a TCP retransmit, as the spec advises).
  proxy_protocol_timeout: int({ min: 1, max: MAX_TIMER_SECONDS }).default(3),
};

interface ListenProxyDoc {
  readonly proxy_protocol: boolean;
  readonly trusted_proxies: string[] | undefined;
  readonly proxy_protocol_timeout: number;
}

export interface ListenerProxy {
  readonly proxyProtocol: boolean;
  readonly trustedProxies: readonly string[];
  readonly proxyProtocolTimeoutMs: number;
}

/** A listener's PROXY protocol settings; proxy_protocol without any trusted proxy is an error. */
export function toListenerProxy(title: string, value: ListenProxyDoc & object, topLevel: readonly string[] | undefined): ListenerProxy {
  const trustedProxies = value.trusted_proxies ?? topLevel ?? [];
  if (value.proxy_protocol && trustedProxies.length === 0) {
    throw C11nError.at(here(value, 'proxy_protocol'), `listen "${title}" has proxy_protocol = yes: set trusted_proxies (in the section or at top level)`);
  }
  return { proxyProtocol: value.proxy_protocol, trustedProxies, proxyProtocolTimeoutMs: value.proxy_protocol_timeout * 1000 };
}
