// The measured rows: what each runs, the figure its ratio compares, and the target.
import type { Transport, Workload } from './load/protocol';
import type { Figures } from './report/stats';
import type { HashedScheme } from './setup/hashed-accounts';

export type Metric = 'sessionsPerSec' | 'mbPerSec' | 'p50Ms' | 'kibPerSession';

export interface RowSpec {
  readonly id: string;
  readonly label: string;
  readonly workload: Workload;
  readonly transport: Transport;
  readonly metric: Metric;
  /** r2d2/Dovecot on `metric` must be >= target (higher-is-better) or <= target (lower). */
  readonly target: number;
  readonly lowerIsBetter: boolean;
  /** r2d2/ceiling on `metric` must also be >= this (rows the ceiling server runs in). */
  readonly ceilingTarget?: number;
  /** r2d2's server CPU ms per session over Dovecot's must also be <= this. */
  readonly cpuTarget?: number;
  /**
   * The row logs in accounts whose password column holds a hash in this scheme, verified by each
   * server itself (r2d2 from a `password` column, Dovecot's passdb); otherwise SHA-256 hex checked
   * in SQL by r2d2 and by Dovecot's passdb.
   */
  readonly hashed?: HashedScheme;
}

// Targets: issue 19's "Done when" (TLS retrieve rows: not worse than their earlier targets).
export const ROWS: readonly RowSpec[] = [
  { id: 'login-plain', label: 'login, plain', workload: 'login', transport: 'plain', metric: 'sessionsPerSec', target: 1.5, cpuTarget: 0.5, lowerIsBetter: false },
  { id: 'login-stls', label: 'login, STLS', workload: 'login', transport: 'stls', metric: 'sessionsPerSec', target: 1.3, lowerIsBetter: false },
  { id: 'login-tls', label: 'login, implicit TLS', workload: 'login', transport: 'implicit', metric: 'sessionsPerSec', target: 1.3, lowerIsBetter: false },
  { id: 'login-sha512crypt', label: 'login, SHA512-CRYPT 5,000 rounds', workload: 'login', transport: 'plain', metric: 'sessionsPerSec', target: 1, lowerIsBetter: false, hashed: 'SHA512-CRYPT' },
  { id: 'login-argon2id', label: "login, ARGON2ID (Dovecot's defaults)", workload: 'login', transport: 'plain', metric: 'sessionsPerSec', target: 1, lowerIsBetter: false, hashed: 'ARGON2ID' },
  { id: 'retrieve-plain', label: 'retrieve 50 msgs, plain', workload: 'retrieve', transport: 'plain', metric: 'mbPerSec', target: 1.1, ceilingTarget: 0.85, lowerIsBetter: false },
  { id: 'retrieve-tls', label: 'retrieve 50 msgs, implicit TLS', workload: 'retrieve', transport: 'implicit', metric: 'mbPerSec', target: 1.2, lowerIsBetter: false },
  { id: 'big-plain', label: 'login+STAT, 50,000 msgs', workload: 'big', transport: 'plain', metric: 'p50Ms', target: 0.5, lowerIsBetter: true },
  { id: 'large-plain', label: 'RETR 20 MB, plain', workload: 'large', transport: 'plain', metric: 'mbPerSec', target: 1.5, lowerIsBetter: false },
  { id: 'large-tls', label: 'RETR 20 MB, implicit TLS', workload: 'large', transport: 'implicit', metric: 'mbPerSec', target: 1.0, lowerIsBetter: false },
  { id: 'idle', label: '1,000 idle sessions', workload: 'idle', transport: 'plain', metric: 'kibPerSession', target: 0.1, lowerIsBetter: true },
];

/** Rows the in-memory ceiling server also runs: those that send messages. */
export const hasCeiling = (spec: RowSpec): boolean => (spec.workload === 'retrieve' || spec.workload === 'large') && spec.hashed === undefined;

export type Side = Figures | { readonly pending: string };

/** One condition of a row's verdict: a ratio and the bound it must meet. */
export interface Check {
  readonly what: 'vs Dovecot' | 'of ceiling' | 'CPU/session vs Dovecot';
  /** undefined while a side is pending. */
  readonly ratio: number | undefined;
  readonly target: number;
  readonly lowerIsBetter: boolean;
  readonly met: boolean | undefined;
}

export interface RowResult {
  readonly spec: RowSpec;
  readonly r2d2: Side;
  readonly dovecot: Side;
  /** The in-memory ceiling server, on rows it runs in. */
  readonly ceiling: Side | undefined;
  /** r2d2/Dovecot on the row's metric; undefined when either side is pending. */
  readonly ratio: number | undefined;
  /** r2d2 and Dovecot as fractions of the ceiling on the row's metric. */
  readonly ofCeiling: { readonly r2d2: number; readonly dovecot: number } | undefined;
  /** r2d2's server CPU ms per session over Dovecot's. */
  readonly cpuRatio: number | undefined;
  /** Every condition of the verdict; `met` holds when all do (and r2d2 had no errors). */
  readonly checks: readonly Check[];
  readonly met: boolean | undefined;
}

export function metricOf(f: Figures, metric: Metric): number {
  return metric === 'kibPerSession' ? (f.memory?.kibPerSession ?? NaN) : f[metric];
}

export const isFigures = (x: Side): x is Figures => !('pending' in x);

const ratioOf = (a: number, b: number): number => (b > 0 ? Math.round((a / b) * 1000) / 1000 : NaN);

function check(what: Check['what'], ratio: number | undefined, target: number, lowerIsBetter: boolean): Check {
  const met = ratio === undefined ? undefined : Number.isFinite(ratio) && (lowerIsBetter ? ratio <= target : ratio >= target);
  return { what, ratio, target, lowerIsBetter, met };
}

export function rowResult(spec: RowSpec, r2d2: Side, dovecot: Side, ceiling?: Side): RowResult {
  const both = isFigures(r2d2) && isFigures(dovecot) ? { a: r2d2, b: dovecot } : undefined;
  const ratio = both === undefined ? undefined : ratioOf(metricOf(both.a, spec.metric), metricOf(both.b, spec.metric));
  const c = ceiling !== undefined && isFigures(ceiling) ? metricOf(ceiling, spec.metric) : undefined;
  const ofCeiling = both === undefined || c === undefined ? undefined : { r2d2: ratioOf(metricOf(both.a, spec.metric), c), dovecot: ratioOf(metricOf(both.b, spec.metric), c) };
  const cpuRatio = both === undefined ? undefined : ratioOf(both.a.serverCpuMsPerSession, both.b.serverCpuMsPerSession);
  const checks = [check('vs Dovecot', ratio, spec.target, spec.lowerIsBetter)];
  if (spec.ceilingTarget !== undefined) checks.push(check('of ceiling', ofCeiling?.r2d2, spec.ceilingTarget, false));
  if (spec.cpuTarget !== undefined) checks.push(check('CPU/session vs Dovecot', cpuRatio, spec.cpuTarget, true));
  const met = checks.some((k) => k.met === undefined) ? undefined : checks.every((k) => k.met === true) && both?.a.errors === 0;
  return { spec, r2d2, dovecot, ceiling, ratio, ofCeiling, cpuRatio, checks, met };
}
