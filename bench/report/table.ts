// The results as a Markdown table (printed, and put in the README).
import { isFigures, type Check, type Metric, type RowResult } from '../rows';
import type { Figures } from './stats';

const METRIC_NAME: Record<Metric, string> = {
  sessionsPerSec: 'sessions/s',
  mbPerSec: 'MB/s',
  p50Ms: 'p50',
  kibPerSession: 'KiB/session',
};

const num = (x: number, digits = 1): string => (Number.isFinite(x) ? x.toFixed(digits) : '–');

function cells(f: Figures | { pending: string }, idle: boolean): string[] {
  if (!isFigures(f)) return [f.pending, '', '', '', '', '', '', '', '', ''];
  const mem = f.memory;
  return [
    idle ? '–' : num(f.sessionsPerSec, 0),
    idle ? '–' : num(f.messagesPerSec, 0),
    idle ? '–' : num(f.mbPerSec, 1),
    num(f.p50Ms, 1),
    num(f.p99Ms, 1),
    String(f.errors),
    mem === undefined ? '–' : num(mem.kibPerSession, 1),
    num(f.serverCpuMsPerSession, 2),
    num(f.dbCpuMsPerSession, 2),
    `${num(f.loadCpuShare * 100, 0)}% / ${num(f.otherCpuShare * 100, 0)}%`,
  ];
}

const mark = (met: boolean | undefined): string => (met === undefined ? '' : met ? ' ✔' : ' ✘');
const bound = (k: Check): string => `${k.lowerIsBetter ? '≤' : '≥'} ${k.target}`;

/** The r2d2 line's verdict cells: each condition against Dovecot (the ceiling's goes on its own line). */
function dovecotChecks(r: RowResult): { ratio: string; target: string } {
  if (r.ratio === undefined) return { ratio: 'pending', target: bound(r.checks[0] as Check) + 'x' };
  const shown = r.checks.filter((k) => k.what !== 'of ceiling');
  const ratio = shown.map((k) => (k.what === 'vs Dovecot' ? `**${num(r.ratio ?? NaN, 2)}x** ${METRIC_NAME[r.spec.metric]}` : `CPU/session **${num(k.ratio ?? NaN, 2)}x**`) + mark(k.met));
  if (r.spec.cpuTarget === undefined && r.cpuRatio !== undefined) ratio.push(`CPU/session ${num(r.cpuRatio, 2)}x`);
  if (r.met === false && r.checks.every((k) => k.met === true)) ratio.push('✘ (r2d2 had errors)');
  const target = shown.map((k) => (k.what === 'vs Dovecot' ? `${bound(k)}x` : `CPU ${bound(k)}x`));
  return { ratio: ratio.join('; '), target: target.join('; ') };
}

/** The ceiling line's verdict cells: r2d2 and Dovecot as fractions of the ceiling. */
function ceilingChecks(r: RowResult): { ratio: string; target: string } {
  const k = r.checks.find((c) => c.what === 'of ceiling');
  const of = r.ofCeiling;
  const ratio = of === undefined ? 'pending' : `r2d2 **${num(of.r2d2, 2)}**${mark(k?.met)}, Dovecot ${num(of.dovecot, 2)} of ceiling`;
  return { ratio, target: k === undefined ? '' : `r2d2 ${bound(k)} of ceiling` };
}

export function markdownTable(rows: readonly RowResult[]): string {
  const head = ['workload', 'server', 'sessions/s', 'messages/s', 'MB/s', 'p50 ms', 'p99 ms', 'errors', 'KiB/session', 'server CPU ms/session', 'MariaDB CPU ms/session', 'CPU: load gen / other jobs', 'ratio', 'target'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_h, i) => (i < 2 ? '---' : '---:')).join('|')}|`];
  for (const r of rows) {
    const idle = r.spec.workload === 'idle';
    const verdict = dovecotChecks(r);
    lines.push(`| ${r.spec.label} | r2d2 | ${cells(r.r2d2, idle).join(' | ')} | ${verdict.ratio} | ${verdict.target} |`);
    lines.push(`| | Dovecot | ${cells(r.dovecot, idle).join(' | ')} | | |`);
    if (r.ceiling !== undefined) {
      const c = ceilingChecks(r);
      lines.push(`| | ceiling (in-memory Node) | ${cells(r.ceiling, idle).join(' | ')} | ${c.ratio} | ${c.target} |`);
    }
  }
  return lines.join('\n');
}

export function errorNotes(rows: readonly RowResult[]): string[] {
  const notes: string[] = [];
  for (const r of rows) {
    for (const [name, f] of [['r2d2', r.r2d2], ['Dovecot', r.dovecot], ['ceiling', r.ceiling]] as const) {
      if (f !== undefined && isFigures(f) && f.errors > 0) notes.push(`${r.spec.label}, ${name}: ${f.errors} errors (${f.errorSamples.join('; ')})`);
    }
  }
  return notes;
}
