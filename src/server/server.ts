import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Accounts } from '../accounts/accounts';
import type { Config, ListenerConfig } from '../config/types';
import { openMaildropLocker } from '../lease/open-locker';
import type { LockLiveness, MaildropLocker } from '../maildrop/locker';
import { MAILDIRSIZE_REFUSED_CHANNEL } from '../maildrop/maildirsize';
import { SYSTEM_CLOCK, type Clock } from '../pop3/clock';
import { Pop3Session } from '../pop3/session';
import { statusLine } from '../pop3/replies';
import { TransportSecurity } from '../pop3/security';
import { AccountStores } from './account-stores';
import { ConnectionLimits, localBudget, type ConnectionBudget, type Slot } from './admission';
import { directArrival, proxyFields, proxyPolicies, type Arrival } from './arrival';
import { openAuthHttp } from './auth-http/open';
import { Connection } from './connection';
import { ListenerSet, type BoundListener } from './listener-set';
import { LiveSessions, type KickTarget, type SessionInfo } from './live-sessions';
import { describeTls, startTls } from './start-tls';
import { TlsContexts } from './tls-contexts';
import { LastLoginTable } from './last-logins';
import { PenaltyPolicy } from './login-penalty';
import { createSharedBuffers, PENALTY_WINDOW_SECONDS, type SharedBuffers } from './shared-state';
import { FadingCounts, PerWorkerCounts } from './shared-tables';
import { NO_METRICS, type ListenerMetrics, type Metrics } from './metrics/hooks';
import { handshakeDone, handshakeFailed } from './metrics/tls-outcome';

export interface ServerDeps {
  readonly config: Config;
  readonly accounts: Accounts;
  readonly log: Logger;
  readonly implementation?: string;
  readonly lockLiveness?: LockLiveness;
  /** Where maildrop locks live; made from c11n maildrop_lock (and closed with the server) when absent. */
  readonly locker?: MaildropLocker;
  /** Numbers sessions across the whole server ([N] in the log); one counter per process by default. */
  readonly nextSessionNumber?: () => number;
  /** Listening sockets handed in (worker threads): listener name -> fd. Unnamed listeners bind themselves. */
  readonly listenFds?: ReadonlyMap<string, number>;
  /** max_connections across every worker; a local count by default. */
  readonly budget?: ConnectionBudget;
  /** Which worker thread this is (the connect line, the per-address table's column); 0 alone. */
  readonly worker?: number;
  /** Tables shared by every worker; made for this server alone when absent. */
  readonly shared?: SharedBuffers;
  /** Where sessions report counts and durations; NO_METRICS (nothing) by default. */
  readonly metrics?: Metrics;
  /** Timers and the time of day for sessions; the system's by default (tests move their own). */
  readonly clock?: Clock;
}

export type { BoundListener } from './listener-set';

export interface RunningServer {
  readonly listeners: readonly BoundListener[];
  /** Sessions in progress. */
  readonly sessions: number;
  /**
   * Stops accepting; sessions may finish for `drainMs` (default 0), then the rest are ended
   * without applying their deletions; closes the accounts store.
   */
  close(drainMs?: number): Promise<void>;
  /**
   * Settings that apply to new sessions without a restart (SIGHUP): limits, timeouts, the
   * query (with a new accounts store; the old one is closed once sessions had time to finish).
   */
  reconfigure(config: Config, accounts?: Accounts): void;
  /**
   * SIGHUP: listeners in `fds` (new, or moved) open on their socket, removed ones stop accepting
   * (their sessions go on), kept ones re-read their certificates (bad new files: the old ones
   * stay). The errors are returned (and logged). Sessions are not touched.
   */
  reloadListeners(config: Config, fds: ReadonlyMap<string, number>): Promise<string[]>;
  /** `r2d2 who`: the sessions in progress. */
  who(): SessionInfo[];
  /** `r2d2 kick`: ends the sessions named, as a shutdown (no deletions); how many. */
  kick(target: KickTarget): number;
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/** Binds every configured listener and serves POP3 on them. */
export async function startServer(deps: ServerDeps): Promise<RunningServer> {
  const { log } = deps;
  let config = deps.config;
  const stores = new AccountStores(deps.accounts);
  // Kept across SIGHUP: held leases are renewed over its own pool, whatever the accounts store does.
  const locker = deps.locker ?? openMaildropLocker(config.maildropLock, log);
  // A maildirsize that is a symlink or no regular file is never written through (maildrop/): say so.
  const refusedMaildirsize = (message: unknown): void => {
    const { reason } = message as { reason?: unknown };
    log.warn({ reason: String(reason) }, 'maildirsize refused: not a regular file of the maildir');
  };
  subscribe(MAILDIRSIZE_REFUSED_CHANNEL, refusedMaildirsize);
  const budget = deps.budget ?? localBudget();
  const worker = deps.worker ?? 0;
  const shared = deps.shared ?? createSharedBuffers(1);
  const perAddress = new PerWorkerCounts(shared.addresses, shared.threads.byteLength / Int32Array.BYTES_PER_ELEMENT);
  const limits = new ConnectionLimits(perAddress, budget, worker);
  const penalties = new FadingCounts(shared.penalties, PENALTY_WINDOW_SECONDS);
  const lastLogins = new LastLoginTable(shared.lastLogins);
  const clock = deps.clock ?? SYSTEM_CLOCK;
  let penalty = new PenaltyPolicy(penalties, config.limits.authFailureDelayMs, config.limits.authPenaltyMaxMs);
  const connections = new LiveSessions();
  const pending = new Set<Promise<void>>();
  let counter = 0;
  const nextSession = deps.nextSessionNumber ?? (() => ++counter);
  const implementation = deps.implementation ?? 'r2d2';
  const metrics = deps.metrics ?? NO_METRICS;
  const listenerMetrics = new Map<string, ListenerMetrics>();
  const metricsOf = (listener: ListenerConfig): ListenerMetrics => {
    let found = listenerMetrics.get(listener.name);
    if (found === undefined) listenerMetrics.set(listener.name, (found = metrics.listener(listener.name)));
    return found;
  };

  let proxies = proxyPolicies(config);
  let closing = false;
  const accept = (listener: ListenerConfig, tls: TlsContexts | undefined, socket: Socket): void => {
    const policy = proxies.get(listener.name);
    if (policy === undefined) return admit(listener, tls, socket, directArrival(socket));
    // proxy_protocol: admitted (and counted) as the client the header names, once it is read;
    // a header that completes after close() began gets no session.
    void policy.arrive(socket, clock, log).then((arrival) => arrival !== undefined && (closing ? socket.destroy() : admit(listener, tls, socket, arrival)));
  };

  const admit = (listener: ListenerConfig, tls: TlsContexts | undefined, socket: Socket, arrival: Arrival): void => {
    const address = arrival.peer;
    const counted = metricsOf(listener);
    counted.accepted();
    const admission = limits.admit(address, config.limits.maxConnectionsPerAddress, config.limits.maxConnections);
    if (admission.kind === 'refused') {
      counted.refused(admission.limit);
      socket.resume(); // a socket left paused after a PROXY header would never see the client's FIN
      if (listener.tls === 'implicit') socket.destroy();
      else socket.end(statusLine(false, '[SYS/TEMP] too many connections, try again later'));
      log.warn({ peer: address, listener: listener.name }, `connection refused: ${admission.limit} reached`);
      return;
    }
    const { slot } = admission;
    if (listener.tls !== 'implicit' || tls === undefined) {
      serve(listener, socket, arrival, tls, false, slot);
      return;
    }
    // RFC 8314: on an implicit-TLS port the handshake comes first (after a PROXY header), then the greeting.
    startTls(socket, tls).then(
      (secure) => {
        counted.handshake(handshakeDone(secure));
        serve(listener, secure, arrival, tls, true, slot);
      },
      (error: unknown) => {
        counted.handshake(handshakeFailed(error));
        slot.release();
        log.info({ peer: address, listener: listener.name, reason: (error as Error).message }, 'tls handshake failed');
      },
    );
  };

  const serve = (listener: ListenerConfig, socket: Socket, arrival: Arrival, tls: TlsContexts | undefined, secure: boolean, slot: Slot): void => {
    const session = nextSession();
    const peer = arrival.peer;
    const sessionLog = log.child({ session });
    const security = new TransportSecurity(
      // TLS the proxy terminated (HAProxy send-proxy-v2-ssl) counts for plaintext_auth.
      secure || arrival.proxiedTls !== undefined,
      listener.tls === 'stls' && tls !== undefined,
      listener.plaintextAuth === 'always',
      listener.trustLoopback && LOOPBACK.test(peer),
    );
    const tlsNote = secure ? describeTls(socket as TLSSocket) : (arrival.proxiedTls ?? (listener.tls === 'stls' ? 'stls offered' : 'none'));
    sessionLog.info({ peer, ...proxyFields(arrival), listener: listener.name, tls: tlsNote, worker: deps.worker }, 'connected');
    const counted = metricsOf(listener);
    counted.started();
    const store = stores.take();
    const pop3 = new Pop3Session(
      {
        accounts: store.accounts,
        peer,
        maildirRoot: config.maildirRoot,
        implementation,
        log: sessionLog,
        lockLiveness: deps.lockLiveness,
        locker,
        security,
        penalty,
        io: { blocking: config.blockingFileIo, syncReadMax: config.syncReadMax },
        clock,
        metrics: metrics.session,
        policy: config.policy,
        logins: lastLogins,
      },
      config.limits.maxBadCommands,
    );
    const connection = new Connection(socket, pop3, sessionLog, {
      idleTimeoutMs: config.idleTimeoutMs,
      loginTimeoutMs: config.limits.loginTimeoutMs,
      clock,
      security,
      tls,
      ...(secure || arrival.proxiedTls !== undefined ? { tlsDescription: tlsNote } : {}),
      metrics: counted,
    });
    connections.add({ session, peer, listener: listener.name, since: Date.now(), connection, pop3 });
    const ended = connection.start().then(
      (reason) => counted.ended(reason),
      () => counted.ended('error'),
    ).finally(() => {
      slot.release();
      store.done();
      connections.delete(connection);
      pending.delete(ended);
    });
    pending.add(ended);
  };

  const listeners = new ListenerSet(accept, log);
  let authHttp: Awaited<ReturnType<typeof openAuthHttp>>;
  try {
    await listeners.start(config.listeners, deps.listenFds);
    authHttp = await openAuthHttp(config, deps, { current: () => ({ config: config.authHttp, penalty }), stores, log, nextSession });
  } catch (error) {
    await listeners.close();
    if (deps.locker === undefined) await locker.close().catch(() => undefined);
    throw error;
  }
  // Every listener's series exist from the start (at zero), not from its first connection.
  for (const listener of config.listeners) metricsOf(listener);

  return {
    get listeners() {
      return authHttp === undefined ? listeners.bound : [...listeners.bound, authHttp.bound];
    },
    get sessions() {
      return connections.size;
    },
    reloadListeners: (next, fds) => listeners.update(next.listeners, fds),
    who: () => connections.list(worker),
    kick: (target) => connections.kick(target),
    reconfigure(next: Config, nextAccounts?: Accounts) {
      config = next;
      proxies = proxyPolicies(next);
      penalty = new PenaltyPolicy(penalties, next.limits.authFailureDelayMs, next.limits.authPenaltyMaxMs);
      // The old store closes when the last session that took it has ended.
      if (nextAccounts !== undefined) stores.replace(nextAccounts);
    },
    async close(drainMs = 0) {
      closing = true;
      // close() stops accepting at once; it resolves when every connection has ended.
      const closed = listeners.close();
      if (drainMs > 0 && pending.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([Promise.all(pending), new Promise((resolve) => (timer = setTimeout(resolve, drainMs)))]);
        clearTimeout(timer);
      }
      for (const connection of connections.connections()) connection.shutdown();
      await Promise.all(pending);
      await closed;
      await authHttp?.close();
      await stores.closeAll();
      if (deps.locker === undefined) await locker.close().catch((error: unknown) => log.error({ err: error }, 'maildrop locker close failed'));
      unsubscribe(MAILDIRSIZE_REFUSED_CHANNEL, refusedMaildirsize);
    },
  };
}
