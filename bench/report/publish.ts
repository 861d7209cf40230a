// A run's results, out: the table printed, bench/results/<name>.json and .svg written, and (full
// runs) the README's Performance table replaced; `--report=FILE` re-draws a saved run the same way.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { metricsCostTable, type MetricsCost } from '../metrics-cost';
import { ROWS, rowResult, type Side } from '../rows';
import { REPO } from '../setup/r2d2';
import type { ProfileSummary } from './profile';
import { chartSvg } from './svg';
import { errorNotes, markdownTable } from './table';

function profileText(workload: string, p: ProfileSummary): string {
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
  const lines = [
    `r2d2 CPU profile, ${workload} workload: busy ${p.busyMs} ms of ${p.totalMs} ms sampled over ${p.threads.length} threads (${p.threads.map((t) => t.busyMs).join(' + ')} ms)`,
    'self time by area (native = C++ builtins and the syscalls they make, by JS caller):',
  ];
  for (const a of p.areas) lines.push(`  ${pct(a.share).padStart(6)}  ${a.area}`);
  lines.push('time with a frame of these on the stack (inclusive):');
  for (const a of p.inclusive) lines.push(`  ${pct(a.share).padStart(6)}  ${a.name}`);
  lines.push('top functions by self time:');
  for (const f of p.functions.slice(0, 15)) lines.push(`  ${pct(f.share).padStart(6)}  ${f.name}`);
  return lines.join('\n');
}

export type BenchResult = {
  readonly date: string;
  readonly mode: string;
  readonly machine: { readonly cpu: string; readonly cores: number; readonly memoryGiB: number; readonly kernel: string; readonly node: string };
  readonly versions: { readonly r2d2: string; readonly dovecot: string };
  readonly setup?: { readonly runs?: number; readonly ceilingReadsFiles?: boolean };
  readonly rows: readonly { readonly id: string; readonly r2d2: Side; readonly dovecot: Side; readonly ceiling?: Side }[];
  readonly profiles: Partial<Record<string, ProfileSummary>>;
  readonly metricsCost?: MetricsCost;
};

/** Prints the table and writes the JSON, the chart and (when asked) the README table. */
export function publish(result: BenchResult, how: { name: string; writeJson: boolean; readme: boolean }, say: (line: string) => void): void {
  const rows = result.rows.map((r) => {
    const spec = ROWS.find((s) => s.id === r.id);
    if (spec === undefined) throw new Error(`unknown row ${r.id}`);
    return rowResult(spec, r.r2d2, r.dovecot, r.ceiling);
  });
  const { machine, versions } = result;
  const table = markdownTable(rows);
  const notes = errorNotes(rows);
  const runs = result.setup?.runs ?? 1;
  const runsNote = `${runs > 1 ? `; medians of ${runs} interleaved runs per row` : '; one run per row'}${result.setup?.ceilingReadsFiles === true ? "; the ceiling also read each message's file" : ''}`;
  const machineLine = `${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB, Linux ${machine.kernel}, Node ${machine.node}; r2d2 ${versions.r2d2}, Dovecot ${versions.dovecot}${runsNote}`;
  process.stdout.write(`\n${table}\n\n${machineLine}\n`);
  for (const n of notes) process.stdout.write(`errors: ${n}\n`);
  for (const [workload, p] of Object.entries(result.profiles)) if (p !== undefined) process.stdout.write(`\n${profileText(workload, p)}\n`);
  if (result.metricsCost !== undefined) process.stdout.write(`\nr2d2 with and without metrics (medians):\n\n${metricsCostTable(result.metricsCost)}\n`);
  const out = join(REPO, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  if (how.writeJson) writeFileSync(join(out, `${how.name}.json`), JSON.stringify(result, null, 2) + '\n');
  writeFileSync(join(out, `${how.name}.svg`), chartSvg(rows, `r2d2 vs Dovecot ${versions.dovecot.split(' ')[0]} (${result.mode} run, ${result.date.slice(0, 10)})`, machineLine));
  say(`wrote bench/results/${how.name}${how.writeJson ? '.json and ' : ''}.svg`);
  if (how.readme) {
    updateReadme(table, machineLine, notes, result.date.slice(0, 10), say);
    say("updated the README's Performance table");
  }
}

/** `--report FILE.json`: prints and re-draws a saved run (and its README table, for a full run). */
export function report(file: string, readme: boolean, say: (line: string) => void): void {
  const result = JSON.parse(readFileSync(file, 'utf8')) as BenchResult;
  const name = basename(file).replace(/\.json$/, '');
  publish(result, { name, writeJson: false, readme: readme && result.mode === 'full' && !name.includes('partial') }, say);
}

const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';

function updateReadme(table: string, machineLine: string, notes: readonly string[], date: string, say: (line: string) => void): void {
  const file = join(REPO, 'README.md');
  const text = readFileSync(file, 'utf8');
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a < 0 || b < a) {
    say('README has no bench markers: not updated');
    return;
  }
  const body = [`Latest full run (${date}): ${machineLine}.`, '', table, ...(notes.length > 0 ? ['', ...notes.map((n) => `- errors: ${n}`)] : [])].join('\n');
  writeFileSync(file, `${text.slice(0, a + START.length)}\n${body}\n${text.slice(b)}`);
}

