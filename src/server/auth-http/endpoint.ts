// r2d2 as the HTTP server of nginx's `auth_http` (mail module): each worker thread answers on
// its own dup of the socket the supervisor bound, with the worker's accounts store and the
// failed-login penalty tables every worker shares.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { AuthHttpConfig } from '../../config/types';
import type { LoginPenalty } from '../../pop3/commands/context';
import type { AccountStores } from '../account-stores';
import { unmapped } from '../proxy-protocol/ip-text';
import { TrustedNetworks } from '../proxy-protocol/trusted';
import { answer, type AuthAnswer } from './answer';
import { readAuthRequest } from './request';

export interface AuthHttpDeps {
  /** The settings now (a SIGHUP replaces them): the section and the penalty policy. */
  readonly current: () => { readonly config: AuthHttpConfig; readonly penalty: LoginPenalty };
  readonly stores: AccountStores;
  readonly log: Logger;
  /** Numbers each request as a session is numbered ([N] in the log). */
  readonly nextSession: () => number;
}

export interface AuthHttpEndpoint {
  readonly port: number;
  close(): Promise<void>;
}

/** nginx reads the answer into a 1 KB buffer: headers only, no Date, no body. */
function send(res: ServerResponse, reply: AuthAnswer): void {
  const headers: Record<string, string> =
    reply.kind === 'ok'
      ? { 'Auth-Status': 'OK', 'Auth-Server': reply.server, 'Auth-Port': String(reply.port) }
      : { 'Auth-Status': reply.status, ...(reply.wait === undefined ? {} : { 'Auth-Wait': String(reply.wait) }) };
  res.sendDate = false;
  res.writeHead(200, { ...headers, 'Content-Length': '0', Connection: 'close' });
  res.end();
}

export async function startAuthHttp(deps: AuthHttpDeps, bind: { readonly fd: number } | { readonly host: string; readonly port: number }): Promise<AuthHttpEndpoint> {
  let trusted: { readonly of: AuthHttpConfig; readonly networks: TrustedNetworks } | undefined;
  const trustedNow = (config: AuthHttpConfig): TrustedNetworks => {
    if (trusted?.of !== config) trusted = { of: config, networks: new TrustedNetworks(config.trustedProxies) };
    return trusted.networks;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET') {
      res.writeHead(405, { Allow: 'GET', 'Content-Length': '0', Connection: 'close' });
      res.end();
      return;
    }
    const log = deps.log.child({ session: deps.nextSession() });
    const { config, penalty } = deps.current();
    const asker = unmapped(req.socket.remoteAddress ?? 'unknown');
    const read = readAuthRequest(req.headers);
    if (read.kind === 'unusable') {
      log.warn({ proxy: asker, reason: read.reason }, 'auth_http request refused');
      send(res, { kind: 'error', status: '[SYS/PERM] bad auth_http request' });
      return;
    }
    const { clientIp } = read.request;
    let client = asker;
    if (clientIp !== undefined && clientIp !== '') {
      // Client-IP is the proxy's word: believed from trusted_proxies only.
      if (!trustedNow(config).has(asker)) log.warn({ proxy: asker }, 'auth_http: Client-IP ignored: the asker is not in trusted_proxies');
      else if (isIP(clientIp) === 0) log.warn({ proxy: asker }, 'auth_http: Client-IP is not an address: ignored');
      else client = unmapped(clientIp);
    }
    log.debug({ peer: client, proxy: asker, attempt: read.request.attempt }, 'auth_http request');
    const store = deps.stores.take();
    try {
      send(res, await answer(read.request, { accounts: store.accounts, penalty, config, client, log }));
    } catch (error) {
      log.error({ err: error }, 'auth_http request failed');
      send(res, { kind: 'error', status: '[SYS/TEMP] internal error, try again later', wait: 1 });
    } finally {
      store.done();
    }
  };

  const server = createServer({ requestTimeout: 15_000, headersTimeout: 10_000 }, (req, res) => void handle(req, res));
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen('fd' in bind ? { fd: bind.fd } : { host: bind.host, port: bind.port, backlog: 511 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
