// MariaDB as a Galera cluster in the lab: two private mariadbd nodes (their own datadirs, in
// their own namespaces) and Galera's arbitrator `garbd` as the third vote, so that one node can
// stop and the other keeps a primary component. db1 bootstraps the cluster and gets the schema;
// db2 joins by state transfer (rsync). The controller talks to the nodes over their unix sockets
// (paths in the shared file system), never over the lab's network.
import { chownSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConnection, type Connection } from 'mysql2/promise';
import { exec, until } from './exec';
import type { LabNode } from './netns';
import type { LabProcess, Processes } from './processes';

const GALERA = '/usr/lib/galera/libgalera_smm.so';
const CLUSTER = 'r2lab';

export type DbName = 'db1' | 'db2';

export interface GaleraNodes {
  readonly db1: LabNode;
  readonly db2: LabNode;
  readonly garb: LabNode;
}

export class Galera {
  private readonly servers = new Map<DbName, LabProcess>();

  private constructor(
    private readonly dir: string,
    readonly nodes: GaleraNodes,
    private readonly procs: Processes,
  ) {}

  /** Bootstraps db1, runs `schema` on it, then starts garbd and db2 and waits for a 3-member cluster. */
  static async start(dir: string, nodes: GaleraNodes, procs: Processes, schema: (db: Connection) => Promise<void>, log: (line: string) => void): Promise<Galera> {
    const galera = new Galera(dir, nodes, procs);
    const mysqlUid = Number((await exec('id', ['-u', 'mysql'])).trim());
    const mysqlGid = Number((await exec('id', ['-g', 'mysql'])).trim());
    for (const name of ['db1', 'db2'] as const) {
      mkdirSync(galera.datadir(name), { recursive: true });
      chownSync(galera.datadir(name), mysqlUid, mysqlGid);
    }
    log('galera: mariadb-install-db for db1');
    await exec('mariadb-install-db', ['--no-defaults', '--user=mysql', `--datadir=${galera.datadir('db1')}`, '--auth-root-authentication-method=normal', '--skip-test-db'], 180_000);
    galera.startNode('db1', true);
    await galera.waitReady('db1', 120_000);
    log('galera: db1 bootstrapped');
    const db = await galera.connect('db1');
    try {
      await schema(db);
    } finally {
      await db.end();
    }
    const peers = `gcomm://${nodes.db1.address}:4567,${nodes.db2.address}:4567`;
    procs.start('garbd', nodes.garb.ns, ['garbd', '--address', peers, '--group', CLUSTER, '--options', `gmcast.listen_addr=tcp://${nodes.garb.address}:4567`], join(dir, 'garbd.log'));
    galera.startNode('db2', false);
    log('galera: garbd and db2 joining (db2 by rsync state transfer)');
    await galera.waitReady('db2', 300_000);
    await until('a 3-member Galera cluster', 120_000, async () => (await galera.status('db1')).size === 3);
    return galera;
  }

  socket(name: DbName): string {
    return join(this.datadir(name), 'mysqld.sock');
  }

  connect(name: DbName): Promise<Connection> {
    return createConnection({ socketPath: this.socket(name), user: 'root', multipleStatements: true });
  }

  /** wsrep_cluster_size and wsrep_local_state_comment of a node (size 0 when it cannot be asked). */
  async status(name: DbName): Promise<{ size: number; state: string }> {
    let db: Connection | undefined;
    try {
      db = await this.connect(name);
      const [rows] = await db.query("SHOW STATUS WHERE Variable_name IN ('wsrep_cluster_size', 'wsrep_local_state_comment')");
      const values = new Map((rows as { Variable_name: string; Value: string }[]).map((r) => [r.Variable_name, r.Value]));
      return { size: Number(values.get('wsrep_cluster_size') ?? 0), state: values.get('wsrep_local_state_comment') ?? '?' };
    } catch {
      return { size: 0, state: 'down' };
    } finally {
      await db?.end().catch(() => undefined);
    }
  }

  /** Stops a node the way an operator would (SIGTERM: a clean shutdown that leaves the cluster). */
  async stopNode(name: DbName): Promise<void> {
    const server = this.servers.get(name);
    if (server === undefined) return;
    if (!(await server.stop('SIGTERM', 60_000))) await server.stop('SIGKILL');
  }

  errorLog(name: DbName): string {
    try {
      return readFileSync(join(this.datadir(name), 'error.log'), 'utf8');
    } catch {
      return '';
    }
  }

  private datadir(name: DbName): string {
    return join(this.dir, name);
  }

  private startNode(name: DbName, bootstrap: boolean): void {
    const node = this.nodes[name];
    const datadir = this.datadir(name);
    const args = [
      'mariadbd',
      '--no-defaults',
      '--user=mysql',
      `--datadir=${datadir}`,
      `--socket=${this.socket(name)}`,
      `--pid-file=${join(datadir, 'mysqld.pid')}`,
      `--log-error=${join(datadir, 'error.log')}`,
      `--bind-address=${node.address}`,
      '--port=3306',
      '--skip-name-resolve',
      '--innodb-buffer-pool-size=32M',
      '--performance-schema=OFF',
      '--binlog-format=ROW',
      '--default-storage-engine=InnoDB',
      '--innodb-autoinc-lock-mode=2',
      '--wsrep-on=ON',
      `--wsrep-provider=${GALERA}`,
      `--wsrep-cluster-name=${CLUSTER}`,
      `--wsrep-cluster-address=gcomm://${this.nodes.db1.address},${this.nodes.db2.address},${this.nodes.garb.address}`,
      `--wsrep-node-address=${node.address}`,
      `--wsrep-node-name=${name}`,
      '--wsrep-sst-method=rsync',
      '--wsrep-provider-options=gcache.size=32M',
      ...(bootstrap ? ['--wsrep-new-cluster'] : []),
    ];
    this.servers.set(name, this.procs.start(name, node.ns, args, join(this.dir, `${name}.out`)));
  }

  private async waitReady(name: DbName, timeoutMs: number): Promise<void> {
    const server = this.servers.get(name);
    await until(`${name} synced`, timeoutMs, async () => {
      if (server !== undefined && !server.running) throw new Error(`${name} exited:\n${this.errorLog(name).slice(-3000)}`);
      return (await this.status(name)).state === 'Synced';
    }, 500);
  }
}
