// The entry of a worker thread: many POP3 sessions on its own dups of the listening sockets.
import { parentPort, workerData } from 'node:worker_threads';
import { openAccounts } from '../accounts/open-accounts';
import { createLogger } from '../log/logger';
import type { FromWorker, ToWorker, WorkerData } from './ipc';
import { perWorker } from './per-worker';
import { startServer } from './server';
import { startLmtp } from '../lmtp/lmtp-server';
import { SharedCounters, ThreadTable } from './shared-state';

async function main(data: WorkerData): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('worker.ts runs only as a worker thread');
  let config = perWorker(data.config);
  const log = createLogger({ identity: config.identity, log: config.log });
  const counters = new SharedCounters(data.shared);
  const server = await startServer({
    config,
    accounts: openAccounts(config, log),
    log,
    implementation: data.implementation,
    lockLiveness: new ThreadTable(data.shared),
    nextSessionNumber: () => counters.nextSession(),
    listenFds: new Map(data.fds),
    budget: { tryAcquire: (max) => counters.tryAcquire(data.slot, max), release: () => counters.release(data.slot) },
    worker: data.slot,
    shared: data.shared,
  });
  // LMTP (the lmtp section) on this worker's dups of its sockets; its own share of the recipient database.
  const deliverDb = config.deliver?.database;
  const lmtp =
    config.lmtp === undefined || deliverDb === undefined
      ? undefined
      : await startLmtp({ config, log, listenFds: new Map(data.fds), poolSize: Math.max(1, Math.ceil(deliverDb.poolSize / config.threads)), nextSessionNumber: () => counters.nextSession(), worker: data.slot });
  const send = (message: FromWorker): void => port.postMessage(message);
  port.on('message', (message: ToWorker) => {
    switch (message.type) {
      case 'reload': {
        const next = perWorker(message.config);
        // The store carries the query, its database and the password rules: any change opens a new one.
        const storeOf = (c: typeof config): string => JSON.stringify([c.maildropQuery, c.accountsDatabase, c.passwords]);
        const queryChanged = storeOf(next) !== storeOf(config);
        server.reconfigure(next, queryChanged ? openAccounts(next, log) : undefined);
        lmtp?.reconfigure(next);
        const errors = server.reloadTls(next);
        config = next;
        send({ type: 'reloaded', errors });
        break;
      }
      case 'shutdown':
        // process.exit in a worker ends only this thread; it also drops timers a store left behind.
        void Promise.all([server.close(message.drainMs), lmtp?.close()]).finally(() => setImmediate(() => process.exit(0)));
        break;
      case 'status':
        send({ type: 'status', sessions: server.sessions, heapUsed: process.memoryUsage().heapUsed });
        break;
    }
  });
  send({ type: 'ready' });
}

main(workerData as WorkerData).catch((error: unknown) => {
  // Nothing else to do from here: the engine sees the exit and logs it.
  process.stderr.write(`r2d2 worker: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
