// A program a test runs privately (HAProxy, nginx, Prometheus, r2d2 serve...): in the foreground
// as the test's child, on files of its own in a temp folder, its output kept for failure
// messages; at teardown killed by pid and its folder removed.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';

/** A child process whose stdout and stderr (those that are piped) are kept. */
export class DaemonProcess {
  private captured = '';
  /** Its exit code (null when a signal ended it), once it has exited. */
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => (this.captured += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.captured += d.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** What it has written so far. */
  get output(): string {
    return this.captured;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends `signal` to its pid if it still runs, and waits for its exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.running) return;
    this.child.kill(signal);
    await this.exited;
  }
}

export interface PrivateDaemonOptions {
  /** Its environment; this process's by default. */
  readonly env?: NodeJS.ProcessEnv;
  /** What teardown stops it with. */
  readonly stopSignal?: NodeJS.Signals;
}

export class PrivateDaemon extends DaemonProcess {
  private constructor(
    readonly dir: string,
    child: ChildProcess,
  ) {
    super(child);
  }

  /**
   * Makes a temp folder `r2d2-NAME-…`, lets `prepare` write the program's files there and name its
   * command line, and starts it (stdin closed, stdout and stderr kept). Teardown stops it
   * (SIGTERM unless told otherwise), waits for its exit and removes the folder.
   */
  static start(t: Test, name: string, prepare: (dir: string) => readonly string[], options: PrivateDaemonOptions = {}): PrivateDaemon {
    const dir = mkdtempSync(join(tmpdir(), `r2d2-${name}-`));
    let daemon: PrivateDaemon;
    try {
      const [command, ...args] = prepare(dir);
      if (command === undefined) throw new Error(`no command line for ${name}`);
      daemon = new PrivateDaemon(dir, spawn(command, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] }));
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    t.teardown(async () => {
      await daemon.stop(options.stopSignal);
      rmSync(dir, { recursive: true, force: true });
    });
    return daemon;
  }
}
