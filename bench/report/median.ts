// `--runs=N`: each figure of a row is the median over its N runs (single runs on a busy 2-core
// machine differ by up to 1.5x). Errors are added up instead: one failed session in any run shows.
import { round, type Figures } from './stats';

/** The median of the finite values (the mean of the middle two for an even count); NaN if none. */
export function median(values: readonly number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return NaN;
  const hi = sorted[n >> 1] as number;
  return n % 2 === 1 ? hi : round(((sorted[(n >> 1) - 1] as number) + hi) / 2, 3);
}

type Memory = NonNullable<Figures['memory']>;

function medianMemory(all: readonly Memory[]): Memory {
  const m = (pick: (x: Memory) => number): number => median(all.map(pick));
  return {
    opened: m((x) => x.opened),
    pssBeforeKiB: m((x) => x.pssBeforeKiB),
    pssAfterKiB: m((x) => x.pssAfterKiB),
    processesAfter: m((x) => x.processesAfter),
    kibPerSession: m((x) => x.kibPerSession),
    totalKibPerSession: m((x) => x.totalKibPerSession),
  };
}

/** One server's figures on one row over its runs: medians, errors summed, error texts merged. */
export function medianFigures(runs: readonly Figures[]): Figures {
  const first = runs[0];
  if (first === undefined) throw new Error('medianFigures: no runs');
  if (runs.length === 1) return first;
  const m = (pick: (f: Figures) => number): number => median(runs.map(pick));
  const memories = runs.map((f) => f.memory).filter((x): x is Memory => x !== undefined);
  return {
    sessions: m((f) => f.sessions),
    errors: runs.reduce((n, f) => n + f.errors, 0),
    errorSamples: [...new Set(runs.flatMap((f) => f.errorSamples))].slice(0, 5),
    wallMs: m((f) => f.wallMs),
    sessionsPerSec: m((f) => f.sessionsPerSec),
    messagesPerSec: m((f) => f.messagesPerSec),
    mbPerSec: m((f) => f.mbPerSec),
    p50Ms: m((f) => f.p50Ms),
    p99Ms: m((f) => f.p99Ms),
    serverCpuMsPerSession: m((f) => f.serverCpuMsPerSession),
    dbCpuMsPerSession: m((f) => f.dbCpuMsPerSession),
    serverCpuShare: m((f) => f.serverCpuShare),
    loadCpuShare: m((f) => f.loadCpuShare),
    otherCpuShare: m((f) => f.otherCpuShare),
    machineForks: m((f) => f.machineForks),
    ...(first.tls === undefined ? {} : { tls: first.tls }),
    ...(memories.length === 0 ? {} : { memory: medianMemory(memories) }),
  };
}

/**
 * The order a row's measurements run in: run 1 of every server, then run 2 of every server, ...
 * so that a slow spell of the machine falls on all servers alike, not on one server's runs.
 */
export function interleaved<S>(servers: readonly S[], runs: number): { readonly run: number; readonly server: S }[] {
  const order: { run: number; server: S }[] = [];
  for (let run = 0; run < runs; run++) for (const server of servers) order.push({ run, server });
  return order;
}
