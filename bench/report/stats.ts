// Figures of one measured row for one server, and the ratios between servers.
import type { LoadResult } from '../load/pool';

export type ServerName = 'r2d2' | 'dovecot';

export interface Figures {
  readonly sessions: number;
  readonly errors: number;
  readonly errorSamples: readonly string[];
  readonly wallMs: number;
  readonly sessionsPerSec: number;
  readonly messagesPerSec: number;
  /** 10^6 octets per second received by the clients (status lines included). */
  readonly mbPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Server CPU (its whole process tree) per session, ms. */
  readonly serverCpuMsPerSession: number;
  /** MariaDB's CPU per session, ms (both servers send it one login query per session). */
  readonly dbCpuMsPerSession: number;
  /** Server CPU over wall time and all cores, 0..1. */
  readonly serverCpuShare: number;
  /** The load generator's own CPU over wall time and all cores, 0..1. */
  readonly loadCpuShare: number;
  /** CPU used by everything else on the machine meanwhile (other servers, other jobs), 0..1. */
  readonly otherCpuShare: number;
  /** Processes and threads created on the whole machine meanwhile (a hint of other jobs). */
  readonly machineForks: number;
  /** TLS protocol and cipher the sessions negotiated, for TLS rows. */
  readonly tls?: string;
  /** Idle row only: PSS growth per open session, KiB, and the totals behind it. */
  readonly memory?: {
    readonly opened: number;
    readonly pssBeforeKiB: number;
    readonly pssAfterKiB: number;
    readonly processesAfter: number;
    readonly kibPerSession: number;
    readonly totalKibPerSession: number;
  };
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? NaN;
}

/** One row's run as measured: the load pool's counts plus the CPU of everything around it. */
export interface RawRun extends Omit<LoadResult, 'cpuMs' | 'tls'> {
  readonly loadCpuMs: number;
  readonly serverCpuMs: number;
  readonly dbCpuMs: number;
  /** Busy CPU of the whole machine meanwhile, ms. */
  readonly systemCpuMs: number;
  readonly machineForks: number;
  readonly cores: number;
  readonly tls?: string | undefined;
}

export function figures(r: RawRun): Figures {
  const sorted = Float64Array.from(r.latencies).sort();
  const seconds = r.wallMs / 1000;
  return {
    sessions: r.sessions,
    errors: r.errors,
    errorSamples: r.errorSamples,
    wallMs: round(r.wallMs, 0),
    sessionsPerSec: round(r.sessions / seconds, 1),
    messagesPerSec: round(r.messages / seconds, 1),
    mbPerSec: round(r.bytes / 1e6 / seconds, 2),
    p50Ms: round(percentile(sorted, 50), 2),
    p99Ms: round(percentile(sorted, 99), 2),
    serverCpuMsPerSession: r.sessions > 0 ? round(r.serverCpuMs / r.sessions, 3) : NaN,
    dbCpuMsPerSession: r.sessions > 0 ? round(r.dbCpuMs / r.sessions, 3) : NaN,
    serverCpuShare: round(r.serverCpuMs / (r.wallMs * r.cores), 3),
    loadCpuShare: round(r.loadCpuMs / (r.wallMs * r.cores), 3),
    otherCpuShare: round(Math.max(0, r.systemCpuMs - r.serverCpuMs - r.loadCpuMs - (Number.isFinite(r.dbCpuMs) ? r.dbCpuMs : 0)) / (r.wallMs * r.cores), 3),
    machineForks: r.machineForks,
    ...(r.tls === undefined ? {} : { tls: r.tls }),
  };
}

export function round(x: number, digits: number): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
