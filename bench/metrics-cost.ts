// What the metrics endpoint costs: r2d2's CPU per session with and without a `metrics` section,
// on the same personality otherwise, fresh processes each time, alternated (A B A B) so that a
// machine getting busier or quieter does not favour one side. During the runs with metrics a
// scraper asks for /metrics every second (Prometheus' default is every 15 s or more: this is
// the dear end). Both sides run the same load (`--clients`, the login and retrieve workloads).
import type { Workload } from './load/protocol';
import { hookCost, type HookCost } from './metrics-hooks';
import type { Figures } from './report/stats';
import { round } from './report/stats';
import { sleep } from './setup/util';

/** Its id for `--only`, beside the rows'. */
export const METRICS_COST_ID = 'metrics';

export interface MetricsCostRow {
  readonly workload: Workload;
  /** Server CPU ms per session of each run, in the order measured. */
  readonly withoutMs: readonly number[];
  readonly withMs: readonly number[];
  /** Medians, and the difference (with - without) per session and in percent. */
  readonly without: number;
  readonly with: number;
  readonly extraMs: number;
  readonly extraPercent: number;
  readonly scrapes: number;
  readonly errors: number;
}

export interface MetricsCostDeps {
  /** Starts r2d2 (fresh), with or without the metrics section; returns its pid and a stop. */
  readonly start: (metrics: boolean) => Promise<{ pid: number; stop: () => Promise<void> }>;
  /** Runs `workload` against the pid's server for the plan's time. */
  readonly measure: (pid: number, workload: 'login' | 'retrieve', warmUp: boolean) => Promise<Figures>;
  readonly metricsUrl: string;
  /** CPU ms of a server's whole process tree so far. */
  readonly cpuMs: (pid: number) => number;
  readonly rounds: number;
  readonly say: (line: string) => void;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
};

/** Asks for /metrics every second until stopped; counts the answers (non-200 throws at stop). */
function scraper(url: string): { stop: () => Promise<number> } {
  let scrapes = 0;
  let failure: string | undefined;
  let running = true;
  const loop = (async () => {
    while (running) {
      const response = await fetch(url, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } }).catch((e: unknown) => e);
      if (response instanceof Response && response.ok) {
        await response.text();
        scrapes++;
      } else failure = response instanceof Response ? `HTTP ${response.status}` : String(response);
      await sleep(1000);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      if (failure !== undefined) throw new Error(`metrics scrape failed: ${failure}`);
      return scrapes;
    },
  };
}

/** What one scrape costs the server, apart from the sessions: CPU ms and the size of the answer. */
export interface ScrapeCost {
  readonly cpuMsPerScrape: number;
  readonly octets: number;
}

export interface MetricsCost {
  readonly rows: readonly MetricsCostRow[];
  readonly scrape: ScrapeCost;
  readonly hooks: HookCost;
}

const SCRAPES = 50;

/** 50 scrapes back to back, less what the idle server used over as long again. */
async function scrapeCost(deps: MetricsCostDeps, pid: number): Promise<ScrapeCost> {
  const started = performance.now();
  const before = deps.cpuMs(pid);
  let octets = 0;
  for (let i = 0; i < SCRAPES; i++) {
    const response = await fetch(deps.metricsUrl, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
    octets = (await response.arrayBuffer()).byteLength;
  }
  const scraping = deps.cpuMs(pid) - before;
  await sleep(performance.now() - started);
  const idle = deps.cpuMs(pid) - before - scraping;
  return { cpuMsPerScrape: round((scraping - idle) / SCRAPES, 2), octets };
}

export async function metricsCost(deps: MetricsCostDeps): Promise<MetricsCost> {
  const rows: MetricsCostRow[] = [];
  let scrape: ScrapeCost | undefined;
  for (const workload of ['login', 'retrieve'] as const) {
    const runs = { without: [] as number[], with: [] as number[] };
    let scrapes = 0;
    let errors = 0;
    for (let round = 0; round < deps.rounds; round++) {
      for (const metrics of [false, true]) {
        const server = await deps.start(metrics);
        try {
          await deps.measure(server.pid, workload, true);
          const scraping = metrics ? scraper(deps.metricsUrl) : undefined;
          const f = await deps.measure(server.pid, workload, false);
          scrapes += (await scraping?.stop()) ?? 0;
          if (metrics && scrape === undefined) scrape = await scrapeCost(deps, server.pid);
          errors += f.errors;
          (metrics ? runs.with : runs.without).push(f.serverCpuMsPerSession);
          deps.say(`metrics cost, ${workload}, ${metrics ? 'with' : 'without'} metrics: ${f.serverCpuMsPerSession} ms CPU/session, ${f.sessionsPerSec} sessions/s (${f.errors} errors)`);
        } finally {
          await server.stop();
        }
      }
    }
    const without = median(runs.without);
    const withMetrics = median(runs.with);
    rows.push({
      workload,
      withoutMs: runs.without,
      withMs: runs.with,
      without: round(without, 3),
      with: round(withMetrics, 3),
      extraMs: round(withMetrics - without, 3),
      extraPercent: round(((withMetrics - without) / without) * 100, 1),
      scrapes,
      errors,
    });
  }
  if (scrape === undefined) throw new Error('no run with metrics');
  deps.say(`metrics cost: one scrape ${scrape.cpuMsPerScrape} ms CPU, ${scrape.octets} octets`);
  return { rows, scrape, hooks: hookCost() };
}

export function metricsCostTable({ rows, scrape, hooks }: MetricsCost): string {
  const lines = ['| workload | CPU ms/session without metrics | with metrics (scraped every 1 s) | difference | runs (without; with) |', '|---|---:|---:|---:|---|'];
  for (const r of rows) {
    const sign = r.extraMs >= 0 ? '+' : '';
    lines.push(`| ${r.workload} | ${r.without} | ${r.with} | ${sign}${r.extraMs} ms (${sign}${r.extraPercent}%) | ${r.withoutMs.join(', ')}; ${r.withMs.join(', ')} |`);
  }
  lines.push('', `One scrape (OpenMetrics, ${scrape.octets} octets): ${scrape.cpuMsPerScrape} ms of r2d2's CPU.`);
  lines.push(`The hooks alone (bench/metrics-hooks.ts): ${hooks.loginSessionUs} µs per login session, ${hooks.retrUs} µs per RETR.`);
  return lines.join('\n');
}
