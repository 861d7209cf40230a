// The lab's r2d2 hosts: each a whole `r2d2 serve` (supervisor, engine, worker threads) in its
// own network namespace and, through unshare, its own UTS (host name), PID and mount namespaces,
// so that host names and pids differ as on real machines. All share one maildir root. Their
// logs go by UDP (RFC 5424: timestamp and host name in every line) to the lab's collector.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LabNode } from './netns';
import { childrenOf, type LabProcess, type Processes } from './processes';

const R2D2 = resolve(__dirname, '../../../bin/r2d2');
export const MAILDROP_QUERY = 'SELECT maildir FROM mailbox WHERE username = %u AND password = SHA2(%p, 256) AND active = 1';

export interface HostSettings {
  readonly mailRoot: string;
  /** Database servers, in order (`10.77.0.11:3306`). */
  readonly dbHosts: readonly string[];
  readonly accountsPassword: string;
  readonly lockPassword: string;
  /** Who may send PROXY headers (the balancers). */
  readonly trustedProxies: readonly string[];
  readonly collector: string;
  readonly backend: 'database' | 'local';
  readonly leaseSeconds: number;
  readonly port: number;
  readonly proxyProtocol: boolean;
  /** c11n added at the end (auth_http for the nginx host). */
  readonly extra?: string;
}

export function hostConfig(node: LabNode, s: HostSettings): string {
  const list = (items: readonly string[]): string => `{ ${items.map((i) => JSON.stringify(i)).join(', ')} }`;
  const db = (user: string, password: string): string =>
    `hosts = ${list(s.dbHosts)}  user = ${user}  password = "${password}"  database = lab  connect_timeout = 2  query_timeout = 5  pool_size = 8`;
  return `# r2d2 lab host ${node.name} (${node.address})
executes_as_root = yes
threads = 2
idle_timeout = 600
maildir_root = "${s.mailRoot}"
maildrop_query_format_string = "${MAILDROP_QUERY}"
trusted_proxies = ${list(s.trustedProxies)}
listen "pop3" { address = "${node.address}"  port = ${s.port}  proxy_protocol = ${s.proxyProtocol ? 'yes' : 'no'} }
accounts_database = accounts
database "accounts" { ${db('r2d2', s.accountsPassword)} }
database "locks" { ${db('r2d2_lock', s.lockPassword)} }
maildrop_lock { backend = ${s.backend}  ${s.backend === 'database' ? `lease = ${s.leaseSeconds}  database = locks` : ''} }
limits { auth_failure_delay_ms = 0  max_connections_per_address = 100000  max_connections = 100000 }
log { destination = udp  udp_address = "${s.collector}"  format = rfc5424  level = debug }
${s.extra ?? ''}
`;
}

export class R2d2Host {
  private constructor(
    readonly hostname: string,
    readonly node: LabNode,
    readonly proc: LabProcess,
  ) {}

  /**
   * Writes the host's personality under `dir` and starts it: `ip netns exec NS unshare --uts
   * --pid --mount --fork --mount-proc sh -c 'hostname H; exec r2d2 serve'`.
   */
  static start(procs: Processes, dir: string, hostname: string, node: LabNode, settings: HostSettings): R2d2Host {
    const personality = join(dir, hostname);
    mkdirSync(personality, { recursive: true });
    writeFileSync(join(personality, 'c11n'), hostConfig(node, settings));
    const script = `hostname ${hostname} && exec ${process.execPath} ${R2D2} serve -p ${personality}`;
    const argv = ['unshare', '--uts', '--pid', '--mount', '--fork', '--kill-child', '--mount-proc', 'sh', '-c', script];
    const { NODE_OPTIONS: _tapLoaders, ...env } = process.env;
    return new R2d2Host(hostname, node, procs.start(hostname, node.ns, argv, join(dir, `${hostname}.out`), env));
  }

  /**
   * kill -9 of the whole host: SIGKILL to the first process of its PID namespace (r2d2's
   * supervisor), and the kernel kills every other process in it (engine, worker threads, binder).
   */
  crash(): void {
    for (const pid of childrenOf(this.proc.pid)) process.kill(pid, 'SIGKILL');
    this.proc.child.kill('SIGKILL');
  }
}
