// The lab's processes: each started inside a namespace (`ip netns exec`, which execs the command:
// the pid is the program's), its output to a file, tracked by pid and killed by pid at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';

export class LabProcess {
  readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.name}: no pid`);
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get output(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** Sends `signal` and waits (up to `waitMs`) for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', waitMs = 30_000): Promise<boolean> {
    if (!this.running) return true;
    this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([this.exited.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), waitMs)))]);
    clearTimeout(timer);
    return done;
  }
}

export class Processes {
  private readonly all: LabProcess[] = [];

  /** `cwd`: where every process runs (garbd, for one, writes its state file there). */
  constructor(private readonly cwd: string) {}

  /** Starts `argv` in namespace `ns` (none: in ours), stdout and stderr to `logFile`. */
  start(name: string, ns: string | undefined, argv: readonly string[], logFile: string, env: NodeJS.ProcessEnv = process.env): LabProcess {
    const fd = openSync(logFile, 'a');
    const [command, ...args] = ns === undefined ? argv : ['ip', 'netns', 'exec', ns, ...argv];
    if (command === undefined) throw new Error('no command');
    const child = spawn(command, args, { stdio: ['ignore', fd, fd], env, cwd: this.cwd, detached: false });
    closeSync(fd);
    const proc = new LabProcess(name, child, logFile);
    this.all.push(proc);
    return proc;
  }

  /** Kills every process still running, by pid (SIGKILL), and waits for them. */
  async killAll(): Promise<void> {
    await Promise.all(this.all.map((p) => p.stop('SIGKILL', 10_000)));
  }
}

/** The pids of a process's children (`/proc/PID/task/PID/children`). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter((p) => p.length > 0)
      .map(Number);
  } catch {
    return [];
  }
}
