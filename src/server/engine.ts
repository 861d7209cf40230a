// The engine process: a pool of worker threads, each serving POP3 on its own dup of every
// listening socket (DESIGN.md "Threads": the design with one thread's CPU cost per session
// and no relay). The listening sockets are bound by the supervisor, the engine's parent;
// each dup comes from it over IPC, because Node cannot dup a descriptor in-process.
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Config } from '../config/types';
import { restartDelay } from './backoff';
import type { FromSupervisor, FromWorker, ToSupervisor, ToWorker, WorkerData } from './ipc';
import { endpoints } from './endpoints';
import { poolPerWorker } from './per-worker';
import { createSharedBuffers, SharedCounters, ThreadTable, type SharedBuffers } from './shared-state';
import { PerWorkerCounts } from './shared-tables';

/** A raw TCP handle from the supervisor. Kept referenced for the life of the process and never
 *  closed here: its fd belongs to the worker that listens on it (closing it twice would close
 *  an unrelated file that reused the number). */
interface RawHandle {
  readonly fd: number;
}

export interface EngineOptions {
  readonly config: Config;
  readonly log: Logger;
  readonly implementation: string;
}

const RESTART_BACKOFF_MS = [100, 500, 2000, 5000] as const;

export class Engine {
  private config: Config;
  private readonly shared: SharedBuffers;
  private readonly counters: SharedCounters;
  private readonly threads: ThreadTable;
  private readonly addresses: PerWorkerCounts;
  private readonly workers: Array<Worker | undefined>;
  private readonly retained: RawHandle[] = [];
  private readonly pendingDups = new Map<number, (fd: number) => void>();
  private nextDupId = 1;
  private stopping = false;
  private restarts = 0;

  constructor(private readonly options: EngineOptions) {
    this.config = options.config;
    this.shared = createSharedBuffers(this.config.threads);
    this.counters = new SharedCounters(this.shared);
    this.threads = new ThreadTable(this.shared);
    this.addresses = new PerWorkerCounts(this.shared.addresses, this.config.threads);
    this.workers = new Array<Worker | undefined>(this.config.threads).fill(undefined);
  }

  async start(): Promise<void> {
    await Promise.all(this.workers.map((_, slot) => this.startWorker(slot)));
    this.options.log.info({ threads: this.config.threads }, `engine ready: ${this.config.threads} worker thread(s)`);
  }

  /** SIGTERM: stop accepting, let sessions finish up to shutdown_timeout, then close the rest. */
  async stop(drainMs: number = this.config.shutdownTimeoutMs): Promise<void> {
    this.stopping = true;
    const exits = this.workers.map((w) => (w === undefined ? Promise.resolve() : new Promise<void>((resolve) => w.once('exit', () => resolve()))));
    this.post({ type: 'shutdown', drainMs });
    await Promise.all(exits);
  }

  /** SIGHUP: what can change without dropping sessions is applied; the rest is logged. */
  reload(next: Config): void {
    const fixed = [
      ['listeners', JSON.stringify(next.listeners.map((l) => [l.name, l.address, l.port, l.tls])), JSON.stringify(this.config.listeners.map((l) => [l.name, l.address, l.port, l.tls]))],
      ['auth_http address', JSON.stringify([next.authHttp?.address, next.authHttp?.port]), JSON.stringify([this.config.authHttp?.address, this.config.authHttp?.port])],
      ['threads', String(next.threads), String(this.config.threads)],
      ['uid/gid', `${next.uid}/${next.gid}`, `${this.config.uid}/${this.config.gid}`],
      ['maildrop_lock', JSON.stringify(next.maildropLock), JSON.stringify(this.config.maildropLock)],
    ] as const;
    for (const [what, now, before] of fixed) {
      if (now !== before) this.options.log.warn(`SIGHUP: ${what} changed; that needs a restart and is not applied`);
    }
    this.config = { ...next, listeners: next.listeners, threads: this.config.threads };
    this.post({ type: 'reload', config: this.config });
    this.options.log.info('SIGHUP: configuration reloaded');
  }

  /** SIGUSR1: ServerKit's status report. */
  async status(): Promise<void> {
    const replies = await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<string>((resolve) => {
            if (w === undefined) return resolve('down');
            const timer = setTimeout(() => resolve('no answer'), 1000);
            const onMessage = (m: FromWorker): void => {
              if (m.type !== 'status') return;
              clearTimeout(timer);
              w.off('message', onMessage);
              resolve(`${m.sessions} sessions, heap ${Math.round(m.heapUsed / 1048576)} MiB`);
            };
            w.on('message', onMessage);
            w.postMessage({ type: 'status' } satisfies ToWorker);
          }),
      ),
    );
    const memory = process.memoryUsage();
    this.options.log.info(
      {
        threads: this.config.threads,
        connections: this.counters.total(),
        workers: replies.map((r, slot) => `${slot}: ${r}`).join('; '),
        rssMiB: Math.round(memory.rss / 1048576),
        databasePoolPerWorker: poolPerWorker(this.config),
        restarts: this.restarts,
      },
      'status',
    );
  }

  /** Test hook only: a worker dies as if it had crashed. */
  killForTest(slot: number): void {
    void this.workers[slot]?.terminate();
  }

  private post(message: ToWorker): void {
    for (const w of this.workers) w?.postMessage(message);
  }

  private async startWorker(slot: number): Promise<void> {
    const fds: Array<[string, number]> = [];
    for (const endpoint of endpoints(this.config)) fds.push([endpoint.name, await this.dup(endpoint.name)]);
    const data: WorkerData = { config: this.config, slot, fds, shared: this.shared, implementation: this.options.implementation };
    const worker = new Worker(join(__dirname, 'worker.js'), { workerData: data });
    this.workers[slot] = worker;
    this.threads.markAlive(slot, worker.threadId);
    worker.on('error', (error) => this.options.log.error({ worker: slot, err: error }, 'worker thread failed'));
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'reloaded') for (const e of m.errors) this.options.log.error({ worker: slot }, `tls reload refused: ${e}`);
    });
    worker.once('exit', (code) => this.onWorkerExit(slot, worker, code));
    await new Promise<void>((resolve) => {
      const ready = (m: FromWorker): void => {
        if (m.type !== 'ready') return;
        worker.off('message', ready);
        resolve();
      };
      worker.on('message', ready);
      worker.once('exit', () => resolve());
    });
  }

  /** A worker that died lost only its own sessions (no UPDATE ran for them); it is replaced. */
  private onWorkerExit(slot: number, worker: Worker, code: number): void {
    if (this.workers[slot] !== worker) return;
    this.threads.markDead(slot);
    this.counters.reset(slot);
    this.addresses.clearWorker(slot);
    this.workers[slot] = undefined;
    if (this.stopping) return;
    this.restarts++;
    const delay = restartDelay(RESTART_BACKOFF_MS, this.restarts);
    this.options.log.error({ worker: slot, code }, `worker thread died; its sessions are lost without deletions; replacing it in ${delay} ms`);
    setTimeout(() => {
      if (!this.stopping) void this.startWorker(slot).catch((error: unknown) => this.options.log.error({ worker: slot, err: error }, 'worker restart failed'));
    }, delay).unref();
  }

  private dup(listener: string): Promise<number> {
    const send = process.send?.bind(process);
    if (send === undefined) return Promise.reject(new Error('the engine must run under the supervisor (IPC)'));
    const id = this.nextDupId++;
    return new Promise((resolve) => {
      this.pendingDups.set(id, resolve);
      send({ type: 'dup', listener, id } satisfies ToSupervisor);
    });
  }

  /** A dup the supervisor sent for one of our requests. */
  receiveFd(message: Extract<FromSupervisor, { type: 'fd' }>, handle: unknown): void {
    if (!isRawHandle(handle)) return;
    this.retained.push(handle);
    const resolve = this.pendingDups.get(message.id);
    this.pendingDups.delete(message.id);
    resolve?.(handle.fd);
  }
}

function isRawHandle(value: unknown): value is RawHandle {
  return typeof value === 'object' && value !== null && typeof (value as { fd?: unknown }).fd === 'number';
}
