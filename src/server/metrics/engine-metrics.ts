// The engine's main thread: its own figures (worker restarts, connections held, its log's
// losses, its loop lag), each worker's asked for on every scrape, all summed (aggregate.ts)
// and served on the metrics socket (http.ts).
import type { Server } from 'node:http';
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { Gauge, Registry } from 'prom-client';
import { render, retire, type Rendered } from './aggregate';
import { countedSource } from './counted-source';
import { closeMetrics, serveMetrics } from './http';
import { watchLoopLag } from './loop-lag';
import { watchProcess } from './process-metrics';
import type { MetricsSnapshot } from './worker-metrics';
import type { FromWorker, ToWorker } from '../ipc';
import { version } from '../../version';

/** A worker busy past this is counted with the figures it gave last time. */
const ANSWER_MS = 2000;

export interface EngineMetricsOptions {
  /** The metrics socket (a dup from the supervisor). */
  readonly fd: number;
  readonly log: Logger;
  readonly maxConnections: () => number;
  /** Worker threads by slot (undefined: down). */
  readonly workers: () => ReadonlyArray<Worker | undefined>;
  /** Connections held now, every worker together. */
  readonly connections: () => number;
  readonly restarts: () => number;
  /** Lines the engine's own logger has lost (workers count theirs). */
  readonly logLost: () => number;
}

export class EngineMetrics {
  private readonly registry = new Registry();
  /** Each slot's last answer: what a slow worker is counted with, and what a dead one leaves. */
  private readonly last = new Map<number, MetricsSnapshot>();
  private retired: MetricsSnapshot = [];
  /** Dead workers' figures being added to `retired`, in order. */
  private folding: Promise<void> = Promise.resolve();
  private nextRequest = 1;
  private server: Server | undefined;

  private constructor(private readonly options: EngineMetricsOptions) {
    const registers = [this.registry];
    new Gauge({ name: 'r2d2_info', help: 'Always 1; the version in a label.', labelNames: ['version'], registers }).set({ version: version() }, 1);
    new Gauge({ name: 'r2d2_worker_threads', help: 'Worker threads running.', registers, collect() { this.set(options.workers().filter((w) => w !== undefined).length); } });
    countedSource(this.registry, 'r2d2_worker_restarts_total', 'Worker threads that died and were replaced.', options.restarts);
    new Gauge({ name: 'r2d2_connections', help: 'Connections held now (what max_connections limits).', registers, collect() { this.set(options.connections()); } });
    new Gauge({ name: 'r2d2_connections_max', help: 'max_connections.', registers, collect() { this.set(options.maxConnections()); } });
    countedSource(this.registry, 'r2d2_log_lines_lost_total', 'Log lines dropped (no socket, a dead collector, a full buffer).', options.logLost);
    watchLoopLag(this.registry, 'engine');
    watchProcess(this.registry);
  }

  static async start(options: EngineMetricsOptions): Promise<EngineMetrics> {
    const metrics = new EngineMetrics(options);
    metrics.server = await serveMetrics(options.fd, (openMetrics) => metrics.scrape(openMetrics), options.log);
    return metrics;
  }

  /** A worker died: its counters stay in the sums (as of the last scrape), its gauges go. */
  workerGone(slot: number): void {
    const last = this.last.get(slot);
    this.last.delete(slot);
    if (last === undefined) return;
    this.folding = this.folding.then(async () => {
      this.retired = await retire(this.retired, last);
    });
  }

  async close(): Promise<void> {
    if (this.server !== undefined) await closeMetrics(this.server);
  }

  private async scrape(openMetrics: boolean): Promise<Rendered> {
    const workers = this.options.workers();
    await Promise.all(workers.map((worker, slot) => (worker === undefined ? undefined : this.ask(worker, slot))));
    const own = await this.registry.getMetricsAsJSON();
    // A worker that died meanwhile must be in `retired` before the sums are taken, or they dip.
    let folded: Promise<void>;
    do {
      folded = this.folding;
      await folded;
    } while (folded !== this.folding);
    return render([own, this.retired, ...this.last.values()], openMetrics);
  }

  /** Asks one worker for its figures; keeps the last answer when none comes in time. */
  private ask(worker: Worker, slot: number): Promise<void> {
    const id = this.nextRequest++;
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        worker.off('message', answer);
        worker.off('exit', done);
        resolve();
      };
      const answer = (message: FromWorker): void => {
        if (message.type !== 'metrics' || message.id !== id) return;
        // (A dead worker's late answer must not come back beside its retired figures.)
        if (Array.isArray(message.snapshot) && this.options.workers()[slot] === worker) this.last.set(slot, message.snapshot as MetricsSnapshot);
        done();
      };
      const timer = setTimeout(done, ANSWER_MS);
      worker.on('message', answer);
      worker.once('exit', done);
      worker.postMessage({ type: 'metrics', id } satisfies ToWorker);
    });
  }
}
