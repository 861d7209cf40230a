import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { Test } from 'tap';
import { PrivateDaemon } from './private-daemon';

/** Debian's nginx with libnginx-mod-mail. */
export const NGINX = '/usr/sbin/nginx';
export const MAIL_MODULE = '/usr/lib/nginx/modules/ngx_mail_module.so';

/** A private nginx in the foreground (`daemon off`) on a config and prefix of its own; killed by pid at teardown. */
export class Nginx {
  private constructor(private readonly daemon: PrivateDaemon) {}

  /** `config` may use `$DIR` for its own folder; the error log is $DIR/error.log. */
  static start(t: Test, config: string): Nginx {
    const daemon = PrivateDaemon.start(t, 'nginx', (dir) => {
      const file = join(dir, 'nginx.conf');
      writeFileSync(file, config.replaceAll('$DIR', dir));
      return [NGINX, '-c', file, '-p', `${dir}/`, '-g', `daemon off; pid ${join(dir, 'nginx.pid')};`];
    });
    return new Nginx(daemon);
  }

  get dir(): string {
    return this.daemon.dir;
  }

  get errorLog(): string {
    try {
      return readFileSync(join(this.dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** Waits until the port accepts connections (nginx has started its workers). */
  async waitForPort(port: number, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.daemon.child.exitCode !== null) throw new Error(`nginx exited:\n${this.daemon.output}\n${this.errorLog}`);
      const open = await new Promise<boolean>((resolve) => {
        const s = connect({ port, host: '127.0.0.1' });
        s.once('connect', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      });
      if (open) return;
      if (Date.now() > deadline) throw new Error(`nginx not listening on ${port}:\n${this.daemon.output}\n${this.errorLog}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
