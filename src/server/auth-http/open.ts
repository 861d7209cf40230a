// server.ts's one call for the auth_http endpoint: on the supervisor's socket (worker threads)
// or bound here (a server started in-process, as tests do).
import type { Logger } from 'pino';
import type { AuthHttpConfig, Config } from '../../config/types';
import type { LoginPenalty } from '../../pop3/commands/context';
import type { AccountStores } from '../account-stores';
import { AUTH_HTTP_ENDPOINT } from '../endpoints';
import { startAuthHttp } from './endpoint';

export interface OpenDeps {
  /** The section now (undefined when a SIGHUP dropped it: the old one goes on until a restart) and the penalty policy. */
  readonly current: () => { readonly config: AuthHttpConfig | undefined; readonly penalty: LoginPenalty };
  readonly stores: AccountStores;
  readonly log: Logger;
  readonly nextSession: () => number;
}

export async function openAuthHttp(
  config: Config,
  server: { readonly listenFds?: ReadonlyMap<string, number> | undefined },
  deps: OpenDeps,
): Promise<{ readonly bound: { name: string; address: string; port: number }; close(): Promise<void> } | undefined> {
  const initial = config.authHttp;
  if (initial === undefined) return undefined;
  const fd = server.listenFds?.get(AUTH_HTTP_ENDPOINT);
  const endpoint = await startAuthHttp(
    {
      current: () => {
        const now = deps.current();
        return { config: now.config ?? initial, penalty: now.penalty };
      },
      stores: deps.stores,
      log: deps.log,
      nextSession: deps.nextSession,
    },
    fd !== undefined ? { fd } : { host: initial.address, port: initial.port },
  );
  if (fd === undefined) deps.log.info({ listener: AUTH_HTTP_ENDPOINT }, `listening on ${initial.address}:${endpoint.port}`);
  return { bound: { name: AUTH_HTTP_ENDPOINT, address: initial.address, port: endpoint.port }, close: () => endpoint.close() };
}
