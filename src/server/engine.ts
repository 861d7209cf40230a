// The engine process: a pool of worker threads, each serving POP3 on its own dup of every
// listening socket (DESIGN.md "Threads": the design with one thread's CPU cost per session
// and no relay). The listening sockets are bound by the supervisor, the engine's parent;
// each dup comes from it over IPC, because Node cannot dup a descriptor in-process.
import { closeSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Config } from '../config/types';
import type { LogHandle } from '../log/logger';
import { restartDelay } from './backoff';
import { describeWorkers, type ControlReply, type ControlRequest, type StatusFigures } from './control-protocol';
import { ControlSocket } from './control-socket';
import { RecipientLookups } from './recipient-lookups';
import { METRICS_ENDPOINT, workerEndpoints } from './endpoints';
import type { FromSupervisor, FromWorker, ToWorker, WorkerData } from './ipc';
import { ListenerDups } from './listener-dups';
import { listenerKey } from './listener-set';
import { poolPerWorker } from './per-worker';
import { createSharedBuffers, SharedCounters, ThreadTable, type SharedBuffers } from './shared-state';
import { PerWorkerCounts } from './shared-tables';
import { ask, whenReloaded } from './worker-requests';
import type { EngineMetrics } from './metrics/engine-metrics';

export interface EngineOptions {
  readonly config: Config;
  /** The engine's own log; reopened at SIGHUP (each worker reopens its own). */
  readonly logging: LogHandle;
  readonly implementation: string;
}

const RESTART_BACKOFF_MS = [100, 500, 2000, 5000] as const;
/** A worker that has not applied a reload by then is logged; the reload goes on without it. */
const RELOAD_TIMEOUT_MS = 10_000;

export class Engine {
  private config: Config;
  private readonly shared: SharedBuffers;
  private readonly counters: SharedCounters;
  private readonly threads: ThreadTable;
  private readonly addresses: PerWorkerCounts;
  private readonly workers: Array<Worker | undefined>;
  /** Per worker: the listeners it accepts on (name -> listenerKey). */
  private readonly listening: Array<ReadonlyMap<string, string>>;
  private readonly dups = new ListenerDups();
  private stopping = false;
  private restarts = 0;
  private control: ControlSocket | undefined;
  private readonly recipients: RecipientLookups;
  private metrics: EngineMetrics | undefined;
  /** SIGHUPs are applied one after another. */
  private reloading = Promise.resolve();

  constructor(private readonly options: EngineOptions) {
    this.config = options.config;
    this.shared = createSharedBuffers(this.config.threads);
    this.counters = new SharedCounters(this.shared);
    this.threads = new ThreadTable(this.shared);
    this.addresses = new PerWorkerCounts(this.shared.addresses, this.config.threads);
    this.workers = new Array<Worker | undefined>(this.config.threads).fill(undefined);
    this.listening = this.workers.map(() => new Map());
    this.recipients = new RecipientLookups(() => this.log);
  }

  private get log(): Logger {
    return this.options.logging.log;
  }

  async start(): Promise<void> {
    await this.openControl();
    await Promise.all(this.workers.map((_, slot) => this.startWorker(slot)));
    if (this.config.metrics !== undefined) await this.startMetrics();
    this.log.info({ threads: this.config.threads }, `engine ready: ${this.config.threads} worker thread(s)`);
  }

  /** SIGTERM: stop accepting, let sessions finish up to shutdown_timeout, then close the rest. */
  async stop(drainMs: number = this.config.shutdownTimeoutMs): Promise<void> {
    this.stopping = true;
    await this.control?.close();
    this.control = undefined;
    const exits = this.workers.map((w) => (w === undefined ? Promise.resolve() : new Promise<void>((resolve) => w.once('exit', () => resolve()))));
    this.post({ type: 'shutdown', drainMs });
    await Promise.all([...exits, this.metrics?.close(), this.recipients.close()]);
  }

  /** The metrics endpoint on the socket the supervisor bound; prom-client is loaded only then. */
  private async startMetrics(): Promise<void> {
    const fd = await this.dups.ask(METRICS_ENDPOINT);
    if (fd === undefined) throw new Error('the supervisor has no metrics socket');
    const { EngineMetrics } = await import('./metrics/engine-metrics');
    this.metrics = await EngineMetrics.start({
      fd,
      log: this.log,
      maxConnections: () => this.config.limits.maxConnections,
      workers: () => this.workers,
      connections: () => this.counters.total(),
      restarts: () => this.restarts,
      logLost: () => this.options.logging.stats().lost,
    });
  }

  /**
   * SIGHUP: everything but threads and uid/gid applies without dropping a session: the log
   * settings here and in every worker, listeners the supervisor bound or removed (the Config
   * it sends lists those it has), the control socket, and what new sessions use.
   */
  reload(next: Config): Promise<void> {
    this.reloading = this.reloading.then(() => this.applyReload(next)).catch((error: unknown) => this.log.error({ err: error }, 'SIGHUP: reload failed'));
    return this.reloading;
  }

  private async applyReload(next: Config): Promise<void> {
    if (this.stopping) return;
    const fixed = [
      ['threads', String(next.threads), String(this.config.threads)],
      ['uid/gid', `${next.uid}/${next.gid}`, `${this.config.uid}/${this.config.gid}`],
      ['auth_http address', JSON.stringify([next.authHttp?.address, next.authHttp?.port]), JSON.stringify([this.config.authHttp?.address, this.config.authHttp?.port])],
      ['metrics', JSON.stringify(next.metrics ?? null), JSON.stringify(this.config.metrics ?? null)],
      ['lmtp listeners', JSON.stringify([next.lmtp?.inet, next.lmtp?.socket]), JSON.stringify([this.config.lmtp?.inet, this.config.lmtp?.socket])],
      ['maildrop_lock', JSON.stringify(next.maildropLock), JSON.stringify(this.config.maildropLock)],
    ] as const;
    this.options.logging.reopen(next.identity, next.log);
    for (const [what, now, before] of fixed) {
      if (now !== before) this.log.warn(`SIGHUP: ${what} changed; that needs a restart and is not applied`);
    }
    const controlBefore = this.config.controlSocket;
    this.config = { ...next, threads: this.config.threads, uid: this.config.uid, gid: this.config.gid, metrics: this.config.metrics, lmtp: keepListeners(next.lmtp, this.config.lmtp) };
    if (this.config.controlSocket !== controlBefore && !this.stopping) {
      await this.control?.close();
      this.control = undefined;
      await this.openControl();
    }
    await Promise.all(this.workers.map((_, slot) => this.syncWorker(slot)));
    this.log.info('SIGHUP: configuration reloaded');
  }

  /** Hands a worker the current Config and a dup of each listener it lacks; resolves once it applied them. */
  private async syncWorker(slot: number): Promise<void> {
    const worker = this.workers[slot];
    if (worker === undefined) return;
    const config = this.config;
    const had = this.listening[slot] ?? new Map<string, string>();
    const fds: Array<[string, number]> = [];
    for (const listener of config.listeners) {
      if (had.get(listener.name) === listenerKey(listener)) continue;
      const fd = await this.dups.ask(listener.name);
      if (fd !== undefined) fds.push([listener.name, fd]);
    }
    if (this.workers[slot] !== worker) {
      for (const [, fd] of fds) closeSync(fd); // it died meanwhile; its replacement asks for its own
      return;
    }
    const kept = config.listeners.filter((l) => had.get(l.name) === listenerKey(l) || fds.some(([name]) => name === l.name));
    this.listening[slot] = new Map(kept.map((l) => [l.name, listenerKey(l)]));
    const applied = whenReloaded(worker, RELOAD_TIMEOUT_MS);
    worker.postMessage({ type: 'reload', config, fds } satisfies ToWorker);
    if (!(await applied)) this.log.error({ worker: slot }, 'worker thread has not applied the reload yet');
  }

  /** The control socket's requests (control-socket.ts). */
  async answerControl(request: ControlRequest): Promise<ControlReply> {
    switch (request.command) {
      case 'status':
        return { ok: true, command: 'status', status: await this.figures() };
      case 'who': {
        const answers = await Promise.all(this.workers.map((w) => ask(w, { kind: 'sessions' })));
        const sessions = answers.flatMap((a) => a?.sessions ?? []).sort((a, b) => a.session - b.session);
        return { ok: true, command: 'who', sessions, unanswered: this.unanswered(answers) };
      }
      case 'kick': {
        const target = 'user' in request ? { user: request.user } : { peer: request.peer };
        const answers = await Promise.all(this.workers.map((w) => ask(w, { kind: 'kick', target })));
        const kicked = answers.reduce((sum, a) => sum + (a?.kicked ?? 0), 0);
        this.log.info({ ...target, kicked }, 'kick');
        return { ok: true, command: 'kick', kicked, unanswered: this.unanswered(answers) };
      }
      case 'recipient':
        return this.recipients.answer(this.config, request.address);
    }
  }

  /** SIGUSR1: ServerKit's status report. */
  async status(): Promise<void> {
    const figures = await this.figures();
    this.log.info({ ...figures, workers: describeWorkers(figures.workers) }, 'status');
  }

  private async figures(): Promise<StatusFigures> {
    const answers = await Promise.all(this.workers.map((w) => ask(w, { kind: 'status' })));
    return {
      threads: this.config.threads,
      connections: this.counters.total(),
      workers: answers.map((a, slot) =>
        a !== undefined
          ? { slot, state: 'up', sessions: a.sessions, heapMiB: Math.round(a.heapUsed / 1048576) }
          : { slot, state: this.workers[slot] === undefined ? 'down' : 'no answer' },
      ),
      rssMiB: Math.round(process.memoryUsage().rss / 1048576),
      databasePoolPerWorker: poolPerWorker(this.config),
      restarts: this.restarts,
    };
  }

  /** Slots of running workers that gave no answer. */
  private unanswered(answers: readonly unknown[]): number[] {
    return answers.flatMap((a, slot) => (a === undefined && this.workers[slot] !== undefined ? [slot] : []));
  }

  private async openControl(): Promise<void> {
    const path = this.config.controlSocket;
    if (path !== undefined) this.control = await ControlSocket.open(path, (request) => this.answerControl(request), this.log);
  }

  /** Test hook only: a worker dies as if it had crashed. */
  killForTest(slot: number): void {
    void this.workers[slot]?.terminate();
  }

  private post(message: ToWorker): void {
    for (const w of this.workers) w?.postMessage(message);
  }

  private async startWorker(slot: number): Promise<void> {
    const config = this.config;
    const fds: Array<[string, number]> = [];
    // Its listeners, and nginx's auth_http endpoint and the LMTP sockets (fixed for the worker's life).
    for (const name of [...config.listeners.map((l) => l.name), ...workerEndpoints(config)]) {
      const fd = await this.dups.ask(name);
      if (fd !== undefined) fds.push([name, fd]);
    }
    const data: WorkerData = { config, slot, fds, shared: this.shared, implementation: this.options.implementation };
    const worker = new Worker(join(__dirname, 'worker.js'), { workerData: data });
    this.workers[slot] = worker;
    this.listening[slot] = new Map(config.listeners.filter((l) => fds.some(([name]) => name === l.name)).map((l) => [l.name, listenerKey(l)]));
    this.threads.markAlive(slot, worker.threadId);
    worker.on('error', (error) => this.log.error({ worker: slot, err: error }, 'worker thread failed'));
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'reloaded') for (const e of m.errors) this.log.error({ worker: slot }, `tls reload refused: ${e}`);
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
    // A SIGHUP came while it started: it has the Config from before.
    if (this.config !== config && this.workers[slot] === worker) await this.syncWorker(slot);
  }

  /** A worker that died lost only its own sessions (no UPDATE ran for them); it is replaced. */
  private onWorkerExit(slot: number, worker: Worker, code: number): void {
    if (this.workers[slot] !== worker) return;
    this.threads.markDead(slot);
    this.metrics?.workerGone(slot);
    this.listening[slot] = new Map();
    this.counters.reset(slot);
    this.addresses.clearWorker(slot);
    this.workers[slot] = undefined;
    if (this.stopping) return;
    this.restarts++;
    const delay = restartDelay(RESTART_BACKOFF_MS, this.restarts);
    this.log.error({ worker: slot, code }, `worker thread died; its sessions are lost without deletions; replacing it in ${delay} ms`);
    setTimeout(() => {
      if (!this.stopping) void this.startWorker(slot).catch((error: unknown) => this.log.error({ worker: slot, err: error }, 'worker restart failed'));
    }, delay).unref();
  }

  /** A dup the supervisor sent for one of our requests. */
  receiveFd(message: Extract<FromSupervisor, { type: 'fd' }>, handle: unknown): void {
    this.dups.receive(message, handle);
  }
}

/** The lmtp listeners bound at start stay (a restart changes them); the rest of the section reloads. */
function keepListeners(next: Config['lmtp'], current: Config['lmtp']): Config['lmtp'] {
  if (next === undefined || current === undefined) return current;
  return { ...next, inet: current.inet, socket: current.socket };
}
