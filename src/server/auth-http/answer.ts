// The answer to one auth_http request: the same login path as a POP3 PASS (the accounts store,
// password verification, the failed-login penalty keyed by the client) without opening the
// maildrop: the backend's own login follows. The backend comes from the row's host/port columns.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { Accounts, Route } from '../../accounts/accounts';
import type { AuthHttpConfig } from '../../config/types';
import type { LoginPenalty } from '../../pop3/commands/context';
import type { AuthRequest } from './request';

/** `Auth-Status: OK` with the backend, or an error text nginx sends the client as `-ERR <text>`. */
export type AuthAnswer =
  | { readonly kind: 'ok'; readonly server: string; readonly port: number }
  /** `wait`: Auth-Wait seconds (nginx waits, then lets the client try again); absent: nginx closes. */
  | { readonly kind: 'error'; readonly status: string; readonly wait?: number };

export const AUTH_FAILED = '[AUTH] Authentication failed';
const TEMPORARY = '[SYS/TEMP] internal error, try again later';

export interface AnswerContext {
  readonly accounts: Accounts;
  readonly penalty: LoginPenalty;
  readonly config: AuthHttpConfig;
  /** The client: Client-IP from a trusted proxy, else whoever asked. */
  readonly client: string;
  readonly log: Logger;
}

export async function answer(request: AuthRequest, ctx: AnswerContext): Promise<AuthAnswer> {
  const { log, client } = ctx;
  if (request.protocol !== 'pop3') {
    log.warn({ protocol: request.protocol }, 'auth_http refused: r2d2 answers for POP3 only');
    return { kind: 'error', status: '[SYS/PERM] only POP3 is served here' };
  }
  if (request.method !== 'plain') {
    log.warn({ method: request.method }, 'auth_http refused: only Auth-Method plain (set pop3_auth plain in nginx)');
    return { kind: 'error', status: '[SYS/PERM] authentication method not supported' };
  }
  let result;
  try {
    result = await ctx.accounts.authenticate({ user: request.user, password: request.password, peer: client });
  } catch (error) {
    log.error({ err: error, user: request.user }, 'auth_http login failed: accounts store error');
    return { kind: 'error', status: TEMPORARY, wait: 1 };
  }
  if (result.kind === 'denied') {
    // The same brake as a POP3 PASS, keyed by the client; nginx does the waiting (Auth-Wait).
    const waitMs = ctx.penalty.failed(client, result.account ?? request.user, request.password);
    log.info({ user: request.user, peer: client }, 'login failed: bad credentials');
    log.debug({ delayMs: waitMs }, 'login failure delay');
    return { kind: 'error', status: AUTH_FAILED, wait: Math.max(1, Math.ceil(waitMs / 1000)) };
  }
  if (result.kind === 'refused') {
    log.warn({ user: request.user }, `login refused: ${result.reason}`);
    return { kind: 'error', status: '[SYS/PERM] maildrop not available', wait: 1 };
  }
  ctx.penalty.succeeded(result.account ?? request.user);
  const backend = await backendOf(result.route, ctx.config);
  if (typeof backend === 'string') {
    log.error({ user: request.user, reason: backend }, 'auth_http: no usable backend');
    return { kind: 'error', status: TEMPORARY, wait: 1 };
  }
  log.info({ user: request.user, peer: client, backend: `${backend.server}:${backend.port}` }, 'auth_http login ok');
  return { kind: 'ok', ...backend };
}

/** The row's host/port, else the defaults; a host name is resolved (nginx takes an address only). */
async function backendOf(route: Route | undefined, config: AuthHttpConfig): Promise<{ server: string; port: number } | string> {
  const port = route?.port === undefined ? config.defaultPort : Number(route.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return `the port column is not a port: ${JSON.stringify(route?.port)}`;
  const host = route?.host?.trim() || config.defaultHost;
  if (isIP(host) !== 0) return { server: host, port };
  try {
    return { server: (await lookup(host)).address, port };
  } catch (error) {
    return `host ${JSON.stringify(host)} does not resolve: ${(error as Error).message}`;
  }
}
