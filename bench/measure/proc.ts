// CPU time and memory of a server's whole process tree, from /proc (Linux).
import { readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux

interface Stat {
  readonly pid: number;
  readonly ppid: number;
  /** utime + stime, ticks */
  readonly own: number;
  /** cutime + cstime: children this process has waited for, ticks */
  readonly reaped: number;
}

function readStat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined; // gone
  }
  // The command name is in parentheses and may hold spaces: parse after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); ppid is field 4, utime..cstime are fields 14..17.
  const num = (field: number): number => Number(fields[field - 3] ?? 0);
  return { pid, ppid: num(4), own: num(14) + num(15), reaped: num(16) + num(17) };
}

function allStats(): Stat[] {
  const out: Stat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s !== undefined) out.push(s);
  }
  return out;
}

/** The root and every live descendant. */
export function processTree(root: number): number[] {
  const stats = allStats();
  const children = new Map<number, number[]>();
  for (const s of stats) {
    const list = children.get(s.ppid);
    if (list === undefined) children.set(s.ppid, [s.pid]);
    else list.push(s.pid);
  }
  const out: number[] = [];
  const todo = [root];
  for (let pid = todo.pop(); pid !== undefined; pid = todo.pop()) {
    out.push(pid);
    for (const c of children.get(pid) ?? []) todo.push(c);
  }
  return out;
}

/**
 * CPU ms used so far by a process tree: live processes' own time plus what every live
 * process has collected from children it reaped (Dovecot's master reaps its pop3 processes).
 */
export function treeCpuMs(root: number): number {
  let ticks = 0;
  for (const pid of processTree(root)) {
    const s = readStat(pid);
    if (s !== undefined) ticks += s.own + s.reaped;
  }
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

export interface Memory {
  readonly processes: number;
  /** Sum of Pss over the tree, KiB: shared pages divided among their users. */
  readonly pssKiB: number;
  readonly rssKiB: number;
}

export function treeMemory(root: number): Memory {
  let pss = 0;
  let rss = 0;
  let processes = 0;
  for (const pid of processTree(root)) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1');
    } catch {
      continue;
    }
    processes++;
    pss += Number(/^Pss:\s+(\d+) kB/m.exec(text)?.[1] ?? 0);
    rss += Number(/^Rss:\s+(\d+) kB/m.exec(text)?.[1] ?? 0);
  }
  return { processes, pssKiB: pss, rssKiB: rss };
}

/** CPU ms all processes of the machine have used (from /proc/stat; idle and iowait left out). */
export function systemBusyMs(): number {
  const line = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0] ?? '';
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  const ticks = (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** Processes and threads created on the machine since boot (/proc/stat `processes`). */
export function forksSinceBoot(): number {
  const line = readFileSync('/proc/stat', 'latin1').split('\n').find((l) => l.startsWith('processes '));
  return Number(line?.split(' ')[1] ?? 0);
}

/** The first process whose command name is one of `names` (e.g. the MariaDB server). */
export function findProcess(names: readonly string[]): number | undefined {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (names.includes(readFileSync(`/proc/${name}/comm`, 'latin1').trim())) return Number(name);
    } catch {
      // gone
    }
  }
  return undefined;
}

export function cpuCount(): number {
  try {
    return readFileSync('/proc/cpuinfo', 'latin1').split('\n').filter((l) => l.startsWith('processor')).length || 1;
  } catch {
    return 1;
  }
}
