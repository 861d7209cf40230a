// `npm run bench:scaling`: how r2d2 scales with worker threads, and what an idle session costs.
// For each thread count: RETR-heavy plain sessions and full-handshake TLS sessions, closed-loop
// clients from a load-generator thread pool; figures: sessions/s, MB/s, server CPU ms per
// session (all r2d2 processes and threads, from /proc), and each as a ratio to one thread.
// Then N idle authenticated sessions: bytes of PSS per connection.
// Runs anywhere (SQLite accounts, no MySQL): on the 16-core device machine for the scaling table.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import { LoadPool, type LoadResult } from '../load/pool';
import type { RunSpec } from '../load/protocol';
import { treeCpuMs, treeMemory } from '../measure/proc';
import { R2d2Instance, REPO } from '../setup/r2d2';
import { makeCertificate } from '../setup/tls';
import { freePort, sleep } from '../setup/util';
import { makeFixtures, PASSWORD, personality } from './fixtures';

interface Options {
  threads: number[];
  seconds: number;
  clients: number;
  loadThreads: number;
  idle: number;
  out: string | undefined;
  /** A folder with cert.pem and key.pem to use instead of making one (a machine without openssl). */
  cert: string | undefined;
  workloads: Array<'retrieve' | 'tls'>;
}

function options(argv: string[]): Options {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i === -1 ? undefined : argv[i + 1];
  };
  const cores = cpus().length;
  return {
    threads: (get('threads') ?? [1, 2, 4, 8].filter((n) => n <= Math.max(1, cores)).join(',')).split(',').map(Number),
    seconds: Number(get('seconds') ?? 6),
    clients: Number(get('clients') ?? 48),
    loadThreads: Number(get('load-threads') ?? Math.max(1, Math.floor(cores / 2))),
    idle: Number(get('idle') ?? 10000),
    out: get('out'),
    cert: get('cert'),
    workloads: (get('workloads') ?? 'retrieve,tls').split(',').filter((w): w is 'retrieve' | 'tls' => w === 'retrieve' || w === 'tls'),
  };
}

interface Row {
  workload: string;
  threads: number;
  sessions: number;
  sessionsPerSecond: number;
  mbPerSecond: number;
  serverCpuMsPerSession: number;
  loadCpuShare: number;
  errors: number;
  errorSamples: readonly string[];
}

async function measure(workload: 'retrieve' | 'tls', threads: number, server: R2d2Instance, pool: LoadPool, o: Options, ports: { plain: number; tls: number }, users: readonly string[], sizes: readonly number[]): Promise<Row> {
  const clients = Array.from({ length: o.clients }, (_, i) => users.filter((_, j) => j % o.clients === i));
  const spec: Omit<RunSpec, 'clients'> = {
    workload: workload === 'retrieve' ? 'retrieve' : 'login',
    target: workload === 'retrieve' ? { host: '127.0.0.1', port: ports.plain, transport: 'plain' } : { host: '127.0.0.1', port: ports.tls, transport: 'implicit' },
    password: PASSWORD,
    deadline: Date.now() + o.seconds * 1000,
    maxSessionsPerClient: 1_000_000,
    expectCount: sizes.length,
    expectSizes: sizes,
    sessionTimeoutMs: 30_000,
  };
  const cpu0 = treeCpuMs(server.pid);
  const result: LoadResult = await pool.run(spec, clients);
  const cpu = treeCpuMs(server.pid) - cpu0;
  const seconds = result.wallMs / 1000;
  return {
    workload: workload === 'retrieve' ? `RETR-heavy plain (${sizes.length} x ${Math.round((sizes[0] ?? 0) / 1024)} KB)` : 'TLS full handshake (login, STAT, UIDL, LIST, QUIT)',
    threads,
    sessions: result.sessions,
    sessionsPerSecond: result.sessions / seconds,
    mbPerSecond: result.bytes / 1e6 / seconds,
    serverCpuMsPerSession: cpu / Math.max(1, result.sessions),
    loadCpuShare: result.cpuMs / (result.wallMs * cpus().length),
    errors: result.errors,
    errorSamples: result.errorSamples,
  };
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const root = mkdtempSync(join(tmpdir(), 'r2d2-scaling-'));
  const log = (line: string): void => void process.stdout.write(line + '\n');
  try {
    log(`r2d2 scaling bench on ${hostname()}: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}`);
    const busy = Math.max(o.clients * 2, 64);
    const fx = makeFixtures(root, { busyUsers: busy, idleUsers: o.idle, messages: 10, messageOctets: 100 * 1024 });
    const cert = o.cert === undefined ? makeCertificate(join(root, 'tls'), { uid: 0, gid: 0 }) : { cert: join(o.cert, 'cert.pem'), key: join(o.cert, 'key.pem') };
    const pool = await LoadPool.start(o.loadThreads);
    const rows: Row[] = [];
    let idle: { threads: number; connections: number; bytesPerConnection: number; pssBeforeMiB: number; pssAfterMiB: number } | undefined;
    for (const threads of o.threads) {
      const ports = { plain: await freePort(), tls: await freePort() };
      const dir = join(root, `p${threads}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'c11n'), personality({ threads, port: ports.plain, tlsPort: ports.tls, cert: cert.cert, key: cert.key, accounts: fx.accounts, mailRoot: fx.mailRoot }));
      const server = await R2d2Instance.start(dir, ports.plain, join(root, `r2d2-${threads}.log`));
      try {
        await sleep(300);
        for (const workload of o.workloads) {
          const row = await measure(workload, threads, server, pool, o, ports, fx.busyUsers, fx.sizes);
          rows.push(row);
          log(`  threads=${threads} ${workload}: ${row.sessionsPerSecond.toFixed(0)} sessions/s, ${row.serverCpuMsPerSession.toFixed(2)} CPU ms/session, ${row.errors} errors`);
        }
        if (threads === o.threads[o.threads.length - 1] && o.idle > 0) {
          const before = treeMemory(server.pid);
          const opened = await pool.idleOpen({ target: { host: '127.0.0.1', port: ports.plain, transport: 'plain' }, password: PASSWORD, concurrency: 200, sessionTimeoutMs: 60_000 }, fx.idleUsers);
          await sleep(1000);
          const after = treeMemory(server.pid);
          idle = {
            threads,
            connections: opened.opened,
            bytesPerConnection: ((after.pssKiB - before.pssKiB) * 1024) / Math.max(1, opened.opened),
            pssBeforeMiB: before.pssKiB / 1024,
            pssAfterMiB: after.pssKiB / 1024,
          };
          await pool.idleClose();
          log(`  idle: ${opened.opened} authenticated sessions (${opened.errors} errors), ${Math.round(idle.bytesPerConnection)} bytes/connection`);
        }
      } finally {
        await server.stop();
      }
    }
    await pool.stop();
    report(rows, idle, o, log);
    const json = { host: hostname(), cores: cpus().length, cpu: cpus()[0]?.model, node: process.version, options: o, rows, idle };
    const out = o.out ?? join(REPO, 'bench/results', `scaling-${cpus().length}cores.json`);
    writeFileSync(out, JSON.stringify(json, null, 2) + '\n');
    log(`written ${out}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function report(rows: Row[], idle: { threads: number; connections: number; bytesPerConnection: number } | undefined, o: Options, log: (l: string) => void): void {
  log('');
  log('| workload | threads | sessions/s | x 1 thread | MB/s | server CPU ms/session | x 1 thread | load-gen CPU share | errors |');
  log('|---|---|---|---|---|---|---|---|---|');
  for (const row of rows) {
    const base = rows.find((r) => r.workload === row.workload && r.threads === (o.threads[0] ?? 1));
    const speed = base === undefined ? 1 : row.sessionsPerSecond / base.sessionsPerSecond;
    const cost = base === undefined ? 1 : row.serverCpuMsPerSession / base.serverCpuMsPerSession;
    log(`| ${row.workload} | ${row.threads} | ${row.sessionsPerSecond.toFixed(0)} | ${speed.toFixed(2)} | ${row.mbPerSecond.toFixed(1)} | ${row.serverCpuMsPerSession.toFixed(2)} | ${cost.toFixed(2)} | ${(row.loadCpuShare * 100).toFixed(0)}% | ${row.errors} |`);
  }
  if (idle !== undefined) log(`\nidle: ${idle.connections} authenticated sessions on ${idle.threads} threads: ${Math.round(idle.bytesPerConnection)} bytes of PSS per connection`);
}

main().catch((error: unknown) => {
  process.stderr.write(`scaling bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
