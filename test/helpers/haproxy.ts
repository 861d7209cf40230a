import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { Test } from 'tap';
import { PrivateDaemon } from './private-daemon';

const HAPROXY = '/usr/sbin/haproxy';

/** A private HAProxy (Debian's), in the foreground on a config of its own; killed by pid at teardown. */
export class Haproxy {
  private constructor(private readonly daemon: PrivateDaemon) {}

  /**
   * `config` may use `$DIR` for its own folder (the stats socket, certificates); `files` (name to
   * content) are written there first, as HAProxy reads them while it parses the config.
   */
  static start(t: Test, config: string, files: Readonly<Record<string, string>> = {}): Haproxy {
    const daemon = PrivateDaemon.start(t, 'haproxy', (dir) => {
      for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
      const file = join(dir, 'haproxy.cfg');
      writeFileSync(file, config.replaceAll('$DIR', dir));
      return [HAPROXY, '-f', file, '-db'];
    });
    return new Haproxy(daemon);
  }

  get dir(): string {
    return this.daemon.dir;
  }

  get log(): string {
    return this.daemon.output;
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
      if (this.daemon.child.exitCode !== null) throw new Error(`haproxy exited:\n${this.daemon.output}`);
      const csv = await this.stats('show stat').catch(() => '');
      const row = csv.split('\n').find((l) => l.startsWith(`${backend},${server},`));
      // Column 18 of `show stat` is the status ("UP", "DOWN", "UP 1/2"...).
      if (row?.split(',')[17] === status) return;
      if (Date.now() > deadline) throw new Error(`${backend}/${server} not ${status}: ${row ?? '(no row)'}\n${this.daemon.output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
