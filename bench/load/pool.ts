// The load generator: a pool of worker threads, each running a share of the clients.
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FromWorker, IdleSpec, RunResult, RunSpec, ToWorker } from './protocol';

/** What every load worker counted, merged, plus the pool's own wall and CPU time. */
export interface LoadResult extends RunResult {
  /** Wall time from the start to the last session's end, ms. */
  readonly wallMs: number;
  /** CPU time of this whole process (main thread and workers), ms. */
  readonly cpuMs: number;
}

export class LoadPool {
  private constructor(private readonly workers: readonly Worker[]) {}

  static async start(threads: number): Promise<LoadPool> {
    const file = join(__dirname, 'worker.js');
    const workers = Array.from({ length: Math.max(1, threads) }, () => new Worker(file));
    await Promise.all(workers.map((w) => new Promise((resolve, reject) => w.once('online', resolve).once('error', reject))));
    return new LoadPool(workers);
  }

  get size(): number {
    return this.workers.length;
  }

  /** Runs `clients` (one user list per client) spread over the workers. */
  async run(spec: Omit<RunSpec, 'clients'>, clients: readonly (readonly string[])[]): Promise<LoadResult> {
    const shares = this.workers.map(() => [] as (readonly string[])[]);
    clients.forEach((c, i) => shares[i % shares.length]?.push(c));
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const results = await Promise.all(
      this.workers.map((w, i) => {
        const share = shares[i] ?? [];
        if (share.length === 0) return Promise.resolve(undefined);
        return this.ask(w, { type: 'run', spec: { ...spec, clients: share } }, 'run-done').then((m) => m.result);
      }),
    );
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    return merge(results.filter((r): r is RunResult => r !== undefined), wallMs, (cpu.user + cpu.system) / 1000);
  }

  async idleOpen(spec: Omit<IdleSpec, 'users'>, users: readonly string[]): Promise<{ opened: number; errors: number; errorSamples: string[] }> {
    const shares = this.workers.map(() => [] as string[]);
    users.forEach((u, i) => shares[i % shares.length]?.push(u));
    const per = Math.max(1, Math.ceil(spec.concurrency / this.workers.length));
    const replies = await Promise.all(
      this.workers.map((w, i) => this.ask(w, { type: 'idle-open', spec: { ...spec, concurrency: per, users: shares[i] ?? [] } }, 'idle-opened')),
    );
    return {
      opened: replies.reduce((n, r) => n + r.opened, 0),
      errors: replies.reduce((n, r) => n + r.errors, 0),
      errorSamples: replies.flatMap((r) => r.errorSamples),
    };
  }

  async idleClose(): Promise<{ errors: number; errorSamples: string[] }> {
    const replies = await Promise.all(this.workers.map((w) => this.ask(w, { type: 'idle-close' }, 'idle-closed')));
    return { errors: replies.reduce((n, r) => n + r.errors, 0), errorSamples: replies.flatMap((r) => r.errorSamples) };
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private ask<K extends FromWorker['type']>(worker: Worker, message: ToWorker, answer: K): Promise<Extract<FromWorker, { type: K }>> {
    return new Promise((resolve, reject) => {
      const onMessage = (m: FromWorker): void => {
        if (m.type !== answer) return;
        worker.off('message', onMessage);
        worker.off('error', reject);
        resolve(m as Extract<FromWorker, { type: K }>);
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
      worker.postMessage(message);
    });
  }
}

function merge(results: readonly RunResult[], wallMs: number, cpuMs: number): LoadResult {
  const total = results.reduce((n, r) => n + r.latencies.length, 0);
  const latencies = new Float64Array(total);
  let at = 0;
  for (const r of results) {
    latencies.set(r.latencies, at);
    at += r.latencies.length;
  }
  const samples: string[] = [];
  for (const r of results) for (const s of r.errorSamples) if (!samples.includes(s)) samples.push(s);
  return {
    sessions: results.reduce((n, r) => n + r.sessions, 0),
    errors: results.reduce((n, r) => n + r.errors, 0),
    errorSamples: samples.slice(0, 5),
    errorEvents: results.flatMap((r) => r.errorEvents),
    bytes: results.reduce((n, r) => n + r.bytes, 0),
    messages: results.reduce((n, r) => n + r.messages, 0),
    latencies,
    wallMs,
    cpuMs,
    tls: results.find((r) => r.tls !== undefined)?.tls,
  };
}
