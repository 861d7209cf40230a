// The entry of a worker thread: many POP3 sessions on its own dups of the listening sockets.
import { parentPort, workerData } from 'node:worker_threads';
import { openAccounts } from '../accounts/open-accounts';
import { openLog } from '../log/logger';
import type { FromWorker, ToWorker, WorkerAnswer, WorkerData, WorkerQuery } from './ipc';
import { NO_METRICS } from './metrics/hooks';
import { perWorker } from './per-worker';
import { startServer, type RunningServer } from './server';
import { startLmtp } from '../lmtp/lmtp-server';
import { SharedCounters, ThreadTable } from './shared-state';

async function main(data: WorkerData): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('worker.ts runs only as a worker thread');
  let config = perWorker(data.config);
  const logging = openLog({ identity: config.identity, log: config.log });
  const log = logging.log;
  const counters = new SharedCounters(data.shared);
  // prom-client is loaded only where a `metrics` section asks for it.
  const metrics =
    config.metrics === undefined ? undefined : new (await import('./metrics/worker-metrics')).WorkerMetrics({ slot: data.slot, logLost: () => logging.stats().lost });
  const probe = (metrics ?? NO_METRICS).accounts;
  const server = await startServer({
    config,
    accounts: openAccounts(config, log, probe),
    log,
    implementation: data.implementation,
    lockLiveness: new ThreadTable(data.shared),
    nextSessionNumber: () => counters.nextSession(),
    listenFds: new Map(data.fds),
    budget: { tryAcquire: (max) => counters.tryAcquire(data.slot, max), release: () => counters.release(data.slot) },
    worker: data.slot,
    shared: data.shared,
    metrics,
  });
  // LMTP (the lmtp section) on this worker's dups of its sockets; its own share of the recipient database.
  const deliverDb = config.deliver?.database;
  const lmtp =
    config.lmtp === undefined || deliverDb === undefined
      ? undefined
      : await startLmtp({ config, log, listenFds: new Map(data.fds), poolSize: Math.max(1, Math.ceil(deliverDb.poolSize / config.threads)), nextSessionNumber: () => counters.nextSession(), worker: data.slot });
  const send = (message: FromWorker): void => port.postMessage(message);
  const applyReload = async (message: Extract<ToWorker, { type: 'reload' }>): Promise<void> => {
    const next = perWorker(message.config);
    logging.reopen(next.identity, next.log);
    // The store carries the queries, their database, the password rules and the oauth2 section: any change opens a new one.
    const storeOf = (c: typeof config): string => JSON.stringify([c.maildropQuery, c.accountsDatabase, c.passwords, c.oauth2, c.policy.lastLoginQuery]);
    const queryChanged = storeOf(next) !== storeOf(config);
    server.reconfigure(next, queryChanged ? openAccounts(next, log, probe) : undefined);
    lmtp?.reconfigure(next);
    const errors = await server.reloadListeners(next, new Map(message.fds));
    config = next;
    send({ type: 'reloaded', errors });
  };
  // Reloads are applied one at a time, in the order they came.
  let reloading = Promise.resolve();
  port.on('message', (message: ToWorker) => {
    switch (message.type) {
      case 'reload':
        reloading = reloading
          .then(() => applyReload(message))
          .catch((error: unknown) => {
            log.error({ err: error }, 'reload failed in a worker thread');
            send({ type: 'reloaded', errors: [(error as Error).message] });
          });
        break;
      case 'shutdown':
        // process.exit in a worker ends only this thread; it also drops timers a store left behind.
        void Promise.all([server.close(message.drainMs), lmtp?.close()]).finally(() => setImmediate(() => process.exit(0)));
        break;
      case 'query':
        send({ type: 'answer', id: message.id, answer: answer(server, message.query) });
        break;
      case 'metrics':
        void (metrics?.snapshot() ?? Promise.resolve([])).then((snapshot) => send({ type: 'metrics', id: message.id, snapshot }));
        break;
    }
  });
  send({ type: 'ready' });
}

function answer(server: RunningServer, query: WorkerQuery): WorkerAnswer {
  switch (query.kind) {
    case 'status':
      return { kind: 'status', sessions: server.sessions, heapUsed: process.memoryUsage().heapUsed };
    case 'sessions':
      return { kind: 'sessions', sessions: server.who() };
    case 'kick':
      return { kind: 'kick', kicked: server.kick(query.target) };
  }
}

main(workerData as WorkerData).catch((error: unknown) => {
  // Nothing else to do from here: the engine sees the exit and logs it.
  process.stderr.write(`r2d2 worker: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
