// The results as a Markdown table (printed, and put in the README).
import { isFigures, type Metric, type RowResult } from '../rows';
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

export function markdownTable(rows: readonly RowResult[]): string {
  const head = ['workload', 'server', 'sessions/s', 'messages/s', 'MB/s', 'p50 ms', 'p99 ms', 'errors', 'KiB/session', 'server CPU ms/session', 'MariaDB CPU ms/session', 'CPU: load gen / other jobs', 'r2d2/Dovecot', 'target'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_h, i) => (i < 2 ? '---' : '---:')).join('|')}|`];
  for (const r of rows) {
    const idle = r.spec.workload === 'idle';
    const ratio =
      r.ratio === undefined
        ? 'pending'
        : `**${num(r.ratio, 2)}x** ${METRIC_NAME[r.spec.metric]} ${r.met === true ? '✔' : '✘'}`;
    const target = `${r.spec.lowerIsBetter ? '≤' : '≥'} ${r.spec.target}x`;
    lines.push(`| ${r.spec.label} | r2d2 | ${cells(r.r2d2, idle).join(' | ')} | ${ratio} | ${target} |`);
    lines.push(`| | Dovecot | ${cells(r.dovecot, idle).join(' | ')} | | |`);
  }
  return lines.join('\n');
}

export function errorNotes(rows: readonly RowResult[]): string[] {
  const notes: string[] = [];
  for (const r of rows) {
    for (const [name, f] of [['r2d2', r.r2d2], ['Dovecot', r.dovecot]] as const) {
      if (isFigures(f) && f.errors > 0) notes.push(`${r.spec.label}, ${name}: ${f.errors} errors (${f.errorSamples.join('; ')})`);
    }
  }
  return notes;
}
