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
  /**
   * The row logs in accounts whose password column holds a hash in this scheme, verified by each
   * server itself (r2d2 from a `password` column, Dovecot's passdb); otherwise SHA-256 hex checked
   * in SQL by r2d2 and by Dovecot's passdb.
   */
  readonly hashed?: HashedScheme;
}

export const ROWS: readonly RowSpec[] = [
  { id: 'login-plain', label: 'login, plain', workload: 'login', transport: 'plain', metric: 'sessionsPerSec', target: 3, lowerIsBetter: false },
  { id: 'login-stls', label: 'login, STLS', workload: 'login', transport: 'stls', metric: 'sessionsPerSec', target: 1.5, lowerIsBetter: false },
  { id: 'login-tls', label: 'login, implicit TLS', workload: 'login', transport: 'implicit', metric: 'sessionsPerSec', target: 1.5, lowerIsBetter: false },
  { id: 'login-sha512crypt', label: 'login, SHA512-CRYPT 5,000 rounds', workload: 'login', transport: 'plain', metric: 'sessionsPerSec', target: 1, lowerIsBetter: false, hashed: 'SHA512-CRYPT' },
  { id: 'login-argon2id', label: "login, ARGON2ID (Dovecot's defaults)", workload: 'login', transport: 'plain', metric: 'sessionsPerSec', target: 1, lowerIsBetter: false, hashed: 'ARGON2ID' },
  { id: 'retrieve-plain', label: 'retrieve 50 msgs, plain', workload: 'retrieve', transport: 'plain', metric: 'mbPerSec', target: 1.5, lowerIsBetter: false },
  { id: 'retrieve-tls', label: 'retrieve 50 msgs, implicit TLS', workload: 'retrieve', transport: 'implicit', metric: 'mbPerSec', target: 1.2, lowerIsBetter: false },
  { id: 'big-plain', label: 'login+STAT, 50,000 msgs', workload: 'big', transport: 'plain', metric: 'p50Ms', target: 0.5, lowerIsBetter: true },
  { id: 'large-plain', label: 'RETR 20 MB, plain', workload: 'large', transport: 'plain', metric: 'mbPerSec', target: 1.0, lowerIsBetter: false },
  { id: 'large-tls', label: 'RETR 20 MB, implicit TLS', workload: 'large', transport: 'implicit', metric: 'mbPerSec', target: 1.0, lowerIsBetter: false },
  { id: 'idle', label: '1,000 idle sessions', workload: 'idle', transport: 'plain', metric: 'kibPerSession', target: 0.1, lowerIsBetter: true },
];

export interface RowResult {
  readonly spec: RowSpec;
  readonly r2d2: Figures | { readonly pending: string };
  readonly dovecot: Figures | { readonly pending: string };
  /** r2d2/Dovecot on the row's metric; undefined when either side is pending. */
  readonly ratio: number | undefined;
  readonly met: boolean | undefined;
}

export function metricOf(f: Figures, metric: Metric): number {
  return metric === 'kibPerSession' ? (f.memory?.kibPerSession ?? NaN) : f[metric];
}

export const isFigures = (x: Figures | { readonly pending: string }): x is Figures => !('pending' in x);

export function rowResult(spec: RowSpec, r2d2: RowResult['r2d2'], dovecot: RowResult['dovecot']): RowResult {
  if (!isFigures(r2d2) || !isFigures(dovecot)) return { spec, r2d2, dovecot, ratio: undefined, met: undefined };
  const a = metricOf(r2d2, spec.metric);
  const b = metricOf(dovecot, spec.metric);
  const ratio = b > 0 ? a / b : NaN;
  const errorsFree = r2d2.errors === 0;
  const met = Number.isFinite(ratio) && errorsFree && (spec.lowerIsBetter ? ratio <= spec.target : ratio >= spec.target);
  return { spec, r2d2, dovecot, ratio: Math.round(ratio * 1000) / 1000, met };
}
