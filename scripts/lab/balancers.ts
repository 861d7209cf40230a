// The lab's balancers: HAProxy (TCP mode, send-proxy-v2, a POP3 health check that arrives as a
// v2 LOCAL header) in front of every r2d2 host, and nginx's mail proxy (libnginx-mod-mail),
// which asks one r2d2's auth_http where each user lives and speaks PROXY to the backend.
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { until } from './exec';
import type { LabNode } from './netns';
import type { LabProcess, Processes } from './processes';

const MAIL_MODULE = '/usr/lib/nginx/modules/ngx_mail_module.so';

export class Haproxy {
  private constructor(
    readonly proc: LabProcess,
    private readonly statsSocket: string,
  ) {}

  static start(procs: Processes, dir: string, node: LabNode, backends: readonly { name: string; address: string; port: number }[]): Haproxy {
    const statsSocket = join(dir, 'haproxy.sock');
    const config = `global
    maxconn 4000
    stats socket ${statsSocket} mode 600 level admin

defaults
    mode tcp
    timeout connect 2s
    timeout client 11m
    timeout server 11m
    retries 3
    option redispatch

frontend pop3
    bind ${node.address}:110
    default_backend r2d2

backend r2d2
    balance roundrobin
    option tcp-check
    tcp-check expect string +OK
    tcp-check send QUIT\\r\\n
    tcp-check expect string +OK
    default-server send-proxy-v2 check inter 500 fall 2 rise 2
${backends.map((b) => `    server ${b.name} ${b.address}:${b.port}`).join('\n')}
`;
    const file = join(dir, 'haproxy.cfg');
    writeFileSync(file, config);
    return new Haproxy(procs.start('haproxy', node.ns, ['haproxy', '-f', file, '-db'], join(dir, 'haproxy.out')), statsSocket);
  }

  /** Server name -> status (UP, DOWN, ...) from the stats socket (a unix socket: no network needed). */
  async servers(): Promise<Map<string, string>> {
    const csv = await new Promise<string>((resolve, reject) => {
      const socket = connect(this.statsSocket);
      let answer = '';
      socket.on('data', (d: Buffer) => (answer += d.toString()));
      socket.on('error', reject);
      socket.on('close', () => resolve(answer));
      socket.end('show stat\n');
    });
    const status = new Map<string, string>();
    for (const line of csv.split('\n')) {
      const f = line.split(',');
      if (f[0] === 'r2d2' && f[1] !== undefined && f[1] !== 'BACKEND') status.set(f[1], (f[17] ?? '').split(' ')[0] ?? '');
    }
    return status;
  }

  async waitUp(names: readonly string[], timeoutMs: number): Promise<void> {
    await until(`HAProxy to see ${names.join(', ')} UP`, timeoutMs, async () => {
      if (!this.proc.running) throw new Error(`haproxy exited:\n${this.proc.output}`);
      const status = await this.servers().catch(() => new Map<string, string>());
      return names.every((n) => status.get(n) === 'UP');
    });
  }
}

export function startNginx(procs: Processes, dir: string, node: LabNode, authHttp: string): LabProcess {
  const file = join(dir, 'nginx.conf');
  writeFileSync(
    file,
    `load_module ${MAIL_MODULE};
worker_processes 1;
error_log ${join(dir, 'nginx-error.log')} info;
pid ${join(dir, 'nginx.pid')};
events { worker_connections 256; }
mail {
  auth_http ${authHttp}/auth;
  pop3_auth plain;
  server {
    listen ${node.address}:110;
    protocol pop3;
    proxy on;
    proxy_protocol on;
  }
}
`,
  );
  return procs.start('nginx', node.ns, ['nginx', '-c', file, '-p', `${dir}/`, '-g', 'daemon off;'], join(dir, 'nginx.out'));
}
