// Who a new connection is: the socket's peer, or -- on a listener with proxy_protocol -- the
// client named by the PROXY header its trusted proxy sent first. What this returns is the
// session's peer everywhere: the log lines, the per-address limits, the failed-login penalties
// and %r in the query.
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Config, ListenerConfig } from '../config/types';
import type { Clock } from '../pop3/clock';
import type { ProxyHeader } from './proxy-protocol/header';
import { unmapped } from './proxy-protocol/ip-text';
import { readProxyHeader } from './proxy-protocol/read-header';
import { TrustedNetworks } from './proxy-protocol/trusted';

export interface Arrival {
  /** The client's address. */
  readonly peer: string;
  /** The client's port (from the header, or the socket). */
  readonly port: number | undefined;
  /** The proxy the connection came through; `local` when it is the proxy's own (a health check). */
  readonly proxy?: { readonly address: string; readonly local: boolean };
  /** TLS the proxy terminated for the client (v2 SSL TLV), for the log: `proxy TLSv1.3 ...`. */
  readonly proxiedTls?: string;
}

export function directArrival(socket: Socket): Arrival {
  return { peer: socket.remoteAddress ?? 'unknown', port: socket.remotePort };
}

/** A listener's PROXY protocol policy, built once per configuration (SIGHUP builds a new one). */
export class ProxyPolicy {
  private readonly trusted: TrustedNetworks;

  constructor(readonly listener: ListenerConfig) {
    this.trusted = new TrustedNetworks(listener.trustedProxies);
  }

  /**
   * The connection's Arrival once its header is read; undefined when it was dropped (an
   * untrusted peer, a header malformed, truncated or late), which is logged here.
   */
  async arrive(socket: Socket, clock: Clock, log: Logger): Promise<Arrival | undefined> {
    const proxy = socket.remoteAddress ?? 'unknown';
    const where = { listener: this.listener.name };
    if (!this.trusted.has(socket.remoteAddress)) {
      // Before the greeting and before any byte is read: its header would be a forgery.
      socket.destroy();
      log.warn({ peer: proxy, ...where }, 'connection refused: not a trusted proxy (proxy_protocol)');
      return undefined;
    }
    const read = await readProxyHeader(socket, this.listener.proxyProtocolTimeoutMs, clock);
    if (read.kind === 'failed') {
      socket.destroy();
      log.warn({ proxy, ...where, reason: read.reason }, 'connection closed: no valid PROXY header');
      return undefined;
    }
    return arrivalOf(read.header, socket, proxy);
  }
}

function arrivalOf(header: ProxyHeader, socket: Socket, proxy: string): Arrival {
  const tls = header.ssl?.clientSsl === true ? ['proxy', header.ssl.version ?? 'TLS', header.ssl.cipher].filter((p) => p !== undefined).join(' ') : undefined;
  const extra = tls === undefined ? {} : { proxiedTls: tls };
  // LOCAL (a health check), v1 UNKNOWN, v2 UNSPEC/UNIX/UDP: the connection's own endpoints.
  if (header.source === undefined) return { peer: proxy, port: socket.remotePort, proxy: { address: proxy, local: true }, ...extra };
  return { peer: unmapped(header.source.address), port: header.source.port, proxy: { address: proxy, local: false }, ...extra };
}

/** The listeners with proxy_protocol, by name (applied to new connections; SIGHUP builds new ones). */
export function proxyPolicies(config: Config): Map<string, ProxyPolicy> {
  return new Map(config.listeners.filter((l) => l.proxyProtocol).map((l) => [l.name, new ProxyPolicy(l)]));
}

/** The connect line's proxy fields: the client's port, the proxy, and `proxy_command="local"` for its own connections. */
export function proxyFields(arrival: Arrival): Record<string, string | number | undefined> {
  if (arrival.proxy === undefined) return {};
  if (arrival.proxy.local) return { proxy: arrival.proxy.address, proxy_command: 'local' };
  return { port: arrival.port, proxy: arrival.proxy.address };
}
