import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';

const HAPROXY = '/usr/sbin/haproxy';

/** A private HAProxy (Debian's), in the foreground on a config of its own; killed by pid at teardown. */
export class Haproxy {
  private output = '';
  private constructor(
    readonly dir: string,
    readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
  }

  /** `config` may use `$DIR` for its own folder (the stats socket, certificates). */
  static start(t: Test, config: string): Haproxy {
    const dir = mkdtempSync(join(tmpdir(), 'r2d2-haproxy-'));
    const file = join(dir, 'haproxy.cfg');
    writeFileSync(file, config.replaceAll('$DIR', dir));
    const child = spawn(HAPROXY, ['-f', file, '-db'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const haproxy = new Haproxy(dir, child);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    t.teardown(async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    });
    return haproxy;
  }

  get log(): string {
    return this.output;
  }

  /** A command on the stats socket (`stats socket $DIR/admin.sock` in the config). */
  stats(command: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(join(this.dir, 'admin.sock'));
      let answer = '';
      socket.on('data', (d: Buffer) => (answer += d.toString()));
      socket.on('error', reject);
      socket.on('close', () => resolve(answer));
      socket.end(`${command}\n`);
    });
  }

  /** Waits until the stats socket reports `backend/server` with this status (UP, DOWN...). */
  async waitForServer(backend: string, server: string, status: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`haproxy exited:\n${this.output}`);
      const csv = await this.stats('show stat').catch(() => '');
      const row = csv.split('\n').find((l) => l.startsWith(`${backend},${server},`));
      // Column 18 of `show stat` is the status ("UP", "DOWN", "UP 1/2"...).
      if (row?.split(',')[17] === status) return;
      if (Date.now() > deadline) throw new Error(`${backend}/${server} not ${status}: ${row ?? '(no row)'}\n${this.output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
