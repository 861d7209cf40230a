// A hand-written SVG bar chart: per row, how many times better r2d2 does than Dovecot
// (log scale; for latency and memory, where lower is better, the ratio is inverted), with the
// issue's target marked and the two servers' figures written beside the bar.
import { isFigures, metricOf, type RowResult } from '../rows';

const W = 1060;
const ROW_H = 40;
const TOP = 70;
const LEFT = 250;
const PLOT_W = 420;
const MIN = 0.1;
const MAX = 20;

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const x = (v: number): number => LEFT + (Math.log(Math.min(MAX, Math.max(MIN, v)) / MIN) / Math.log(MAX / MIN)) * PLOT_W;

const UNIT: Record<string, string> = { sessionsPerSec: 'sessions/s', mbPerSec: 'MB/s', p50Ms: 'ms p50', kibPerSession: 'KiB/session' };

function fmt(v: number): string {
  if (!Number.isFinite(v)) return '–';
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

export function chartSvg(rows: readonly RowResult[], title: string, subtitle: string): string {
  const h = TOP + rows.length * ROW_H + 50;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${h}" fill="#ffffff"/>`);
  out.push(`<text x="12" y="22" font-size="16" font-weight="bold">${esc(title)}</text>`);
  out.push(`<text x="12" y="42" fill="#555">${esc(subtitle)}</text>`);
  // Grid: 0.1x .. 20x.
  for (const g of [0.1, 0.2, 0.5, 1, 2, 5, 10, 20]) {
    const gx = x(g).toFixed(1);
    out.push(`<line x1="${gx}" y1="${TOP - 8}" x2="${gx}" y2="${TOP + rows.length * ROW_H}" stroke="${g === 1 ? '#333' : '#ddd'}" stroke-width="${g === 1 ? 1.5 : 1}"/>`);
    out.push(`<text x="${gx}" y="${TOP + rows.length * ROW_H + 16}" text-anchor="middle" fill="#555">${g}x</text>`);
  }
  out.push(`<text x="${x(1).toFixed(1)}" y="${TOP - 14}" text-anchor="middle" fill="#333">same as Dovecot</text>`);
  rows.forEach((r, i) => {
    const y = TOP + i * ROW_H;
    out.push(`<text x="${LEFT - 10}" y="${y + 17}" text-anchor="end">${esc(r.spec.label)}</text>`);
    const targetAdv = r.spec.lowerIsBetter ? 1 / r.spec.target : r.spec.target;
    if (r.ratio === undefined || !isFigures(r.r2d2) || !isFigures(r.dovecot)) {
      const why = !isFigures(r.r2d2) ? r.r2d2.pending : !isFigures(r.dovecot) ? r.dovecot.pending : 'pending';
      out.push(`<text x="${x(1) + 8}" y="${y + 17}" fill="#888">${esc(`r2d2: ${why}`)}</text>`);
    } else {
      const adv = r.spec.lowerIsBetter ? 1 / r.ratio : r.ratio;
      const x0 = x(1);
      const x1 = x(adv);
      const color = r.met === true ? '#2e8b57' : '#c0392b';
      out.push(`<rect x="${Math.min(x0, x1).toFixed(1)}" y="${y + 4}" width="${Math.max(1, Math.abs(x1 - x0)).toFixed(1)}" height="18" fill="${color}" opacity="0.85"/>`);
      out.push(`<text x="${(x1 + (adv >= 1 ? 4 : -4)).toFixed(1)}" y="${y + 17}" text-anchor="${adv >= 1 ? 'start' : 'end'}" font-weight="bold">${fmt(adv)}x</text>`);
      const a = metricOf(r.r2d2, r.spec.metric);
      const b = metricOf(r.dovecot, r.spec.metric);
      const errs = r.r2d2.errors + r.dovecot.errors > 0 ? `, errors ${r.r2d2.errors}/${r.dovecot.errors}` : '';
      const ceiling = r.ceiling !== undefined && isFigures(r.ceiling) ? metricOf(r.ceiling, r.spec.metric) : undefined;
      const ceilingText = ceiling !== undefined ? `, ceiling ${fmt(ceiling)}` : '';
      const cpuText = r.spec.cpuTarget !== undefined && r.cpuRatio !== undefined ? `; CPU/session ${fmt(r.cpuRatio)}x` : '';
      out.push(`<text x="${LEFT + PLOT_W + 70}" y="${y + 17}" fill="#333">${esc(`r2d2 ${fmt(a)} vs Dovecot ${fmt(b)}${ceilingText} ${UNIT[r.spec.metric] ?? ''}${cpuText}${errs}`)}</text>`);
      // The ceiling, as times Dovecot: a grey diamond on the row.
      if (ceiling !== undefined && b > 0) {
        const cx = x(ceiling / b);
        out.push(`<path d="M${cx.toFixed(1)} ${y + 2} l5 11 l-5 11 l-5 -11 z" fill="#777"><title>ceiling: in-memory Node server</title></path>`);
      }
    }
    const tx = x(targetAdv).toFixed(1);
    out.push(`<line x1="${tx}" y1="${y + 1}" x2="${tx}" y2="${y + 25}" stroke="#000" stroke-width="2" stroke-dasharray="3,2"/>`);
  });
  const ly = TOP + rows.length * ROW_H + 36;
  out.push(`<rect x="12" y="${ly - 10}" width="12" height="10" fill="#2e8b57"/><text x="28" y="${ly}">target met</text>`);
  out.push(`<rect x="110" y="${ly - 10}" width="12" height="10" fill="#c0392b"/><text x="126" y="${ly}">short of target</text>`);
  out.push(`<line x1="240" y1="${ly - 10}" x2="240" y2="${ly + 2}" stroke="#000" stroke-width="2" stroke-dasharray="3,2"/><text x="248" y="${ly}">target (times better than Dovecot; log scale; latency and memory inverted)</text>`);
  out.push(`<path d="M${W - 190} ${ly - 11} l5 6 l-5 6 l-5 -6 z" fill="#777"/><text x="${W - 180}" y="${ly}">ceiling (in-memory Node)</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
