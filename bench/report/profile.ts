// Reads V8 .cpuprofile files (node --cpu-prof: one per process and thread of the server) and
// says where r2d2's CPU time goes, by area and by function, merged over all threads; draws an
// icicle flame graph of the merged call tree as hand-written SVG.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** A call tree merged over profiles: children keyed by frame name. */
interface Tree {
  readonly name: string;
  readonly area: string;
  selfUs: number;
  totalUs: number;
  readonly children: Map<string, Tree>;
}

export interface ProfileSummary {
  /** Threads (profiles) merged, and each one's busy ms. */
  readonly threads: readonly { readonly file: string; readonly busyMs: number }[];
  /** Sampled time over all threads, ms (idle included). */
  readonly totalMs: number;
  /** Sampled time the threads were busy, ms. */
  readonly busyMs: number;
  /** Busy time by area (self time), share of busy time, largest first. */
  readonly areas: readonly { readonly area: string; readonly ms: number; readonly share: number }[];
  /** Functions by self time, share of busy time. */
  readonly functions: readonly { readonly name: string; readonly area: string; readonly ms: number; readonly share: number }[];
  /** Busy time with a frame of an r2d2 folder or npm package anywhere on the stack. */
  readonly inclusive: readonly { readonly name: string; readonly ms: number; readonly share: number }[];
}

/** Which part of the program a frame belongs to. */
export function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(program)') return 'V8/native (program)';
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(root)') return 'root';
  if (url.includes('/node_modules/')) {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    return `npm: ${m?.[1] ?? '?'}`;
  }
  const src = /\/dist\/src\/([^/]+)\//.exec(url);
  if (src !== null) return `r2d2: src/${src[1]}`;
  if (url.startsWith('node:')) {
    const mod = url.slice(5).replace(/^internal\//, '');
    if (/^(tls|crypto|_tls)/.test(mod) || mod.includes('tls')) return 'node: tls & crypto';
    if (/^(net|stream|streams|tcp|dgram|socket)/.test(mod) || mod.startsWith('stream_base')) return 'node: net & streams';
    if (mod.startsWith('fs')) return 'node: fs';
    if (/^(timers|process\/task_queues|async_hooks|process\/)/.test(mod)) return 'node: timers, ticks, promises';
    if (/^(buffer|util|encoding)/.test(mod)) return 'node: buffer & util';
    if (mod.startsWith('events') || mod === 'events') return 'node: events';
    if (mod.startsWith('worker') || mod.startsWith('per_context/messageport')) return 'node: worker messaging';
    return 'node: other';
  }
  if (url === '') return 'native';
  return 'other';
}

const frameName = (f: CallFrame): string => {
  const where = f.url === '' ? '' : ` ${f.url.replace(/^.*\/(dist|node_modules)\//, '$1/').replace(/^file:\/\//, '')}:${f.lineNumber + 1}`;
  return `${f.functionName || '(anonymous)'}${where}`;
};

/** One profile as a Tree; a native frame (C++ builtins, where syscalls happen) is named with its JS caller. */
function treeOf(profile: CpuProfile): Tree {
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) byId.set(n.id, n);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, profile.timeDeltas[i] ?? 0)));
  const build = (node: ProfileNode, caller: CallFrame | undefined): Tree => {
    let area = areaOf(node.callFrame);
    let name = frameName(node.callFrame);
    if (area === 'native') {
      const from = caller === undefined ? '?' : areaOf(caller);
      area = `native, called from ${from}`;
      name = `${name} <- ${caller === undefined ? '?' : frameName(caller)}`;
    }
    const tree: Tree = { name, area, selfUs: selfUs.get(node.id) ?? 0, totalUs: 0, children: new Map() };
    const jsCaller = node.callFrame.url !== '' ? node.callFrame : caller;
    for (const c of node.children ?? []) {
      const child = byId.get(c);
      if (child !== undefined) merge(tree, build(child, jsCaller));
    }
    return tree;
  };
  const root = profile.nodes[0];
  if (root === undefined) return { name: '(root)', area: 'root', selfUs: 0, totalUs: 0, children: new Map() };
  const tree = build(root, undefined);
  total(tree);
  return tree;
}

function merge(into: Tree, child: Tree): void {
  const same = into.children.get(child.name);
  if (same === undefined) {
    into.children.set(child.name, child);
    return;
  }
  same.selfUs += child.selfUs;
  for (const c of child.children.values()) merge(same, c);
}

/** Total (busy) time of every node; idle time is left out. */
function total(t: Tree): number {
  let us = t.area === 'idle' ? 0 : t.selfUs;
  for (const c of t.children.values()) us += total(c);
  t.totalUs = us;
  return us;
}

function load(files: readonly string[]): { merged: Tree; threads: { file: string; busyMs: number }[]; idleUs: number } {
  const merged: Tree = { name: '(root)', area: 'root', selfUs: 0, totalUs: 0, children: new Map() };
  const threads: { file: string; busyMs: number }[] = [];
  let idleUs = 0;
  for (const file of files) {
    const tree = treeOf(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
    threads.push({ file: basename(file), busyMs: Math.round(tree.totalUs / 100) / 10 });
    const walk = (t: Tree): void => {
      if (t.area === 'idle') idleUs += t.selfUs;
      for (const c of t.children.values()) walk(c);
    };
    walk(tree);
    merged.selfUs += tree.selfUs;
    for (const c of tree.children.values()) merge(merged, c);
  }
  total(merged);
  return { merged, threads, idleUs };
}

export function summarize(files: readonly string[]): ProfileSummary {
  const { merged, threads, idleUs } = load(files);
  const busyUs = merged.totalUs;
  const areas = new Map<string, number>();
  const functions = new Map<string, { area: string; us: number }>();
  const inclusive = new Map<string, number>();
  const walk = (t: Tree, onStack: ReadonlySet<string>): void => {
    if (t.area === 'idle') return;
    const stack = new Set(onStack);
    if (t.area.startsWith('r2d2') || t.area.startsWith('npm')) stack.add(t.area);
    if (t.selfUs > 0) {
      areas.set(t.area, (areas.get(t.area) ?? 0) + t.selfUs);
      const f = functions.get(t.name);
      if (f === undefined) functions.set(t.name, { area: t.area, us: t.selfUs });
      else f.us += t.selfUs;
      for (const a of stack) inclusive.set(a, (inclusive.get(a) ?? 0) + t.selfUs);
    }
    for (const c of t.children.values()) walk(c, stack);
  };
  walk(merged, new Set());
  const share = (us: number): number => Math.round((us / busyUs) * 1000) / 1000;
  const ms = (us: number): number => Math.round(us / 100) / 10;
  return {
    threads: threads.sort((a, b) => b.busyMs - a.busyMs),
    totalMs: ms(busyUs + idleUs),
    busyMs: ms(busyUs),
    areas: [...areas].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, ms: ms(us), share: share(us) })),
    functions: [...functions]
      .sort((a, b) => b[1].us - a[1].us)
      .slice(0, 30)
      .map(([name, f]) => ({ name, area: f.area, ms: ms(f.us), share: share(f.us) })),
    inclusive: [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([name, us]) => ({ name, ms: ms(us), share: share(us) })),
  };
}

const AREA_COLORS: readonly [string, string][] = [
  ['r2d2', '#e67e22'],
  ['npm: mysql2', '#2980b9'],
  ['npm: pino', '#8e44ad'],
  ['npm', '#5dade2'],
  ['node: net', '#27ae60'],
  ['node: tls', '#16a085'],
  ['node', '#82c785'],
  ['native', '#95a5a6'],
  ['GC', '#c0392b'],
  ['V8', '#7f8c8d'],
];
const colorOf = (area: string): string => AREA_COLORS.find(([p]) => area.startsWith(p))?.[1] ?? '#bdc3c7';
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Rows drawn: deeper frames (module loading at start-up, mostly) are left out. */
const MAX_DEPTH = 36;

/** An icicle graph (callers on top) of busy time over all threads; frames under 0.1% are left out. */
export function flameSvg(files: readonly string[], title: string): string {
  const { merged } = load(files);
  const busy = merged.totalUs;
  const W = 1200;
  const H_ROW = 16;
  const rects: string[] = [];
  let depthMax = 0;
  const draw = (t: Tree, x0: number, depth: number): void => {
    const w = (t.totalUs / busy) * W;
    if (w < W * 0.001 || t.area === 'idle' || depth > MAX_DEPTH) return;
    depthMax = Math.max(depthMax, depth);
    if (depth > 0) {
      const y = 40 + (depth - 1) * H_ROW;
      const pct = ((t.totalUs / busy) * 100).toFixed(1);
      rects.push(
        `<g><title>${esc(`${t.name} (${t.area}): ${pct}% of busy time`)}</title><rect x="${x0.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${H_ROW - 1}" fill="${colorOf(t.area)}"/>` +
          (w > 40 ? `<text x="${(x0 + 3).toFixed(1)}" y="${y + 11}" font-size="10">${esc(t.name.slice(0, Math.floor(w / 6)))}</text>` : '') +
          '</g>',
      );
    }
    let x = x0;
    for (const c of [...t.children.values()].sort((a, b) => b.totalUs - a.totalUs)) {
      draw(c, x, depth + 1);
      x += (c.totalUs / busy) * W;
    }
  };
  draw(merged, 0, 0);
  const h = 40 + depthMax * H_ROW + 40;
  const legend = AREA_COLORS.map(([p, c], i) => `<rect x="${10 + i * 115}" y="${h - 22}" width="10" height="10" fill="${c}"/><text x="${24 + i * 115}" y="${h - 13}" font-size="11">${esc(p)}</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" font-family="DejaVu Sans Mono, monospace">
<rect width="${W}" height="${h}" fill="#fff"/>
<text x="10" y="22" font-size="14" font-family="DejaVu Sans, Arial, sans-serif">${esc(title)}</text>
${rects.join('\n')}
${legend}
</svg>
`;
}
