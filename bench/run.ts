// `npm run bench [-- --quick] [-- --cpu-prof] [-- --only=id,id] [-- --runs=N]`: r2d2 against Dovecot on
// this machine, the same maildirs (hard links) and the same MariaDB table, side by side; the rows
// that send messages also run an in-memory Node server (the ceiling) on the same mail.
// Prints a table, writes bench/results/<mode>.json and .svg, and (full runs) the README table.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { LoadPool } from './load/pool';
import { METRICS_COST_ID, metricsCost, type MetricsCost } from './metrics-cost';
import type { Target, Transport, Workload } from './load/protocol';
import { cpuCount, findProcess, forksSinceBoot, systemBusyMs, treeCpuMs, treeMemory } from './measure/proc';
import { flameSvg, summarize, type ProfileSummary } from './report/profile';
import { interleaved, medianFigures } from './report/median';
import { figures, round, type Figures } from './report/stats';
import { publish, report } from './report/publish';
import { hasCeiling, isFigures, metricOf, ROWS, rowResult, type RowResult, type RowSpec, type Side } from './rows';
import { CeilingInstance } from './setup/ceiling';
import { BenchDatabase } from './setup/database';
import type { HashedScheme } from './setup/hashed-accounts';
import { HashedLogins } from './setup/hashed-logins';
import { DovecotInstance, dovecotVersion, ensureDovecot } from './setup/dovecot';
import { makeMail, type MailSet } from './setup/maildirs';
import { REPO, R2d2Instance, writePersonality } from './setup/r2d2';
import { makeCertificate } from './setup/tls';
import { freePort, freePorts, sleep } from './setup/util';
import { deliveryTable, runDeliveryRow } from './deliver/row';

const PASSWORD = 'bench-secret';
const USERS = 1000;
const BIG_COUNT = 50_000;
const LARGE_OCTETS = 20 * 1024 * 1024;
/** The retrieve workload's warm-up on each server, after the logins. */
const RETRIEVE_WARM_UP_MS = 2000;
/** Logins after that, on each server, until r2d2's JIT has settled. */
const LOGIN_WARM_UP_MS = 6000;
/** Clients at once in the login and retrieve rows (`--clients=N`). */
let CONCURRENCY = 16;

/** MariaDB's own CPU, shown beside each row (both servers lean on it for every login). */
const dbPid = findProcess(['mariadbd', 'mysqld']);
const dbCpuMs = (): number => (dbPid === undefined ? NaN : treeCpuMs(dbPid));

interface Options {
  readonly quick: boolean;
  readonly cpuProf: readonly Profiled[];
  readonly only: readonly string[] | undefined;
  readonly keep: boolean;
  readonly loadThreads: number;
  readonly readme: boolean;
  /** Mail stored with CRLF line ends, as `deliver { store_crlf = yes }` (and Dovecot's mail_save_crlf) store it. */
  readonly crlf: boolean;
  /** Each row this many times, the servers interleaved; the table shows medians. */
  readonly runs: number;
  /** The ceiling also reads each RETR's message from its file: the most a server reading files could reach. */
  readonly ceilingReadsFiles: boolean;
}

interface Plan {
  /** Throughput rows (login, retrieve): measured for this long per server. */
  readonly throughputMs: number;
  readonly bigSessions: number;
  readonly largeSessions: number;
  readonly profileMs: number;
  /** Before a measurement, wait up to this long for the machine to be quiet (a shared machine). */
  readonly quietWaitMs: number;
}

/** A measurement during which other jobs used more than this share of the CPU is measured again. */
const NOISY = 0.15;

/** Waits until other jobs leave the CPU mostly idle (under 10% over half a second), or `maxMs`. */
async function waitQuiet(maxMs: number): Promise<void> {
  const end = Date.now() + maxMs;
  while (Date.now() < end) {
    const t = performance.now();
    const busy0 = systemBusyMs();
    await sleep(500);
    const share = (systemBusyMs() - busy0) / ((performance.now() - t) * cpuCount());
    if (share < 0.1) return;
  }
}

function parseArgs(argv: readonly string[]): Options {
  const value = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const known = ['--quick', '--cpu-prof', '--keep', '--no-readme', '--crlf', '--ceiling-reads-files', '--help'];
  for (const a of argv) {
    if (!known.includes(a) && !/^--(only|load-threads|cpu-prof|clients|runs)=/.test(a)) throw new Error(`unknown option ${a} (known: ${known.join(' ')} --only=ID,ID --load-threads=N --clients=N --runs=N)`);
  }
  if (argv.includes('--help')) {
    process.stdout.write(
      `npm run bench [-- OPTIONS]\n  --quick          short runs (under 3 minutes)\n  --cpu-prof[=login,retrieve,large,login-stls,login-tls,retrieve-tls,large-tls]\n                   also profile r2d2 (node --cpu-prof) under these workloads (default login)\n` +
        `  --only=ID,...    rows: ${ROWS.map((r) => r.id).join(', ')}, ${METRICS_COST_ID} (r2d2's CPU per session with and without metrics)\n  --clients=N      clients at once in the login and retrieve rows (default 16)\n  --load-threads=N load generator threads (default: half the cores, at least 1)\n` +
        '  --runs=N         each row N times, servers interleaved (r2d2, Dovecot, ceiling, r2d2, ...); medians shown\n' +
        "                   (default 1; issue 19's verdict takes the median of 3)\n" +
        '  --crlf           store the mail set with CRLF line ends (deliver { store_crlf = yes }); results in <mode>-crlf.json\n' +
        '  --ceiling-reads-files\n                   the ceiling also reads each message from its file before sending it: the most that\n' +
        '                   any server keeping mail in files could reach here; results in <mode>-ceiling-files.json\n' +
        '  --keep           keep the temporary folder (maildirs, configs, logs)\n  --no-readme      do not update the README (full runs update it)\n' +
        '  --report=FILE    print and re-draw a saved run (bench/results/full.json), README table included\n',
    );
    process.exit(0);
  }
  const clients = Number(value('clients') ?? CONCURRENCY);
  if (!Number.isInteger(clients) || clients < 1 || clients > 500) throw new Error('--clients: 1 to 500');
  CONCURRENCY = clients;
  const runs = Number(value('runs') ?? 1);
  if (!Number.isInteger(runs) || runs < 1 || runs > 20) throw new Error('--runs: 1 to 20');
  const only = value('only')?.split(',').filter((s) => s.length > 0);
  for (const id of only ?? []) if (!ROWS.some((r) => r.id === id) && id !== METRICS_COST_ID) throw new Error(`--only: no row ${id}`);
  for (const w of value('cpu-prof')?.split(',') ?? []) if (!(PROFILED as readonly string[]).includes(w)) throw new Error(`--cpu-prof: no workload ${w} (${PROFILED.join(', ')})`);
  const cores = cpuCount();
  return {
    quick: argv.includes('--quick'),
    cpuProf: argv.includes('--cpu-prof') ? ['login'] : ((value('cpu-prof')?.split(',') ?? []) as Profiled[]),
    only,
    keep: argv.includes('--keep'),
    loadThreads: Number(value('load-threads') ?? Math.max(1, Math.floor(cores / 2))),
    readme: !argv.includes('--no-readme'),
    crlf: argv.includes('--crlf'),
    runs,
    ceilingReadsFiles: argv.includes('--ceiling-reads-files'),
  };
}

const t0 = Date.now();
const say = (line: string): void => {
  process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);
};

function mailUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('mail:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) throw new Error('no "mail" user in /etc/passwd (Dovecot runs mail processes as it)');
  return { uid: Number(uid), gid: Number(gid) };
}

function gitVersion(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'bin'], { cwd: REPO, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head}+uncommitted src` : head;
  } catch {
    return 'unknown';
  }
}

function r2d2Version(): string {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
  return `${pkg.version} (${gitVersion()})`;
}

interface Servers {
  readonly r2d2: { plain: number; stls: number; tls: number; tlsReady: boolean; tlsPending: string };
  readonly dovecot: { plain: number; tls: number };
}

function targetOf(servers: Servers, server: 'r2d2' | 'dovecot', transport: Transport): Target {
  const host = '127.0.0.1';
  if (server === 'r2d2') {
    const s = servers.r2d2;
    return { host, transport, port: transport === 'implicit' ? s.tls : transport === 'stls' ? s.stls : s.plain };
  }
  const d = servers.dovecot;
  return { host, transport, port: transport === 'implicit' ? d.tls : d.plain };
}

/** Client c of n gets users c, c+n, c+2n, ...: no two clients ever share a maildrop. */
function clientsFor(users: readonly string[], n: number): string[][] {
  return Array.from({ length: n }, (_, c) => users.filter((_, i) => i % n === c));
}

async function measure(
  pool: LoadPool,
  serverPid: number,
  target: Target,
  workload: Exclude<Workload, 'idle'>,
  mail: MailSet,
  users: readonly string[],
  plan: Plan,
  cores: number,
  maxPerClient = 1_000_000,
): Promise<Figures> {
  const single = workload === 'big' || workload === 'large';
  const clients = single ? [[workload === 'big' ? mail.big.user : mail.large.user]] : clientsFor(users, CONCURRENCY);
  const expectCount = workload === 'big' ? mail.big.count : workload === 'large' ? 1 : mail.standard.length;
  const expectSizes = workload === 'large' ? [mail.large.message.served] : workload === 'retrieve' ? mail.standard.map((m) => m.served) : [];
  const cpu0 = treeCpuMs(serverPid);
  const db0 = dbCpuMs();
  const sys0 = systemBusyMs();
  const forks0 = forksSinceBoot();
  const run = await pool.run(
    {
      workload,
      target,
      password: PASSWORD,
      deadline: Date.now() + (single ? 600_000 : plan.throughputMs),
      maxSessionsPerClient: workload === 'big' ? plan.bigSessions : workload === 'large' ? plan.largeSessions : maxPerClient,
      expectCount,
      expectSizes,
      sessionTimeoutMs: 60_000,
    },
    clients,
  );
  const serverCpuMs = treeCpuMs(serverPid) - cpu0;
  return figures({ ...run, loadCpuMs: run.cpuMs, serverCpuMs, dbCpuMs: dbCpuMs() - db0, systemCpuMs: systemBusyMs() - sys0, machineForks: forksSinceBoot() - forks0, cores });
}

async function measureIdle(pool: LoadPool, serverPid: number, target: Target, users: readonly string[], cores: number): Promise<Figures> {
  await sleep(500);
  const before = treeMemory(serverPid);
  const cpu0 = treeCpuMs(serverPid);
  const db0 = dbCpuMs();
  const sys0 = systemBusyMs();
  const forks0 = forksSinceBoot();
  const load0 = process.cpuUsage();
  const started = performance.now();
  const opened = await pool.idleOpen({ target, password: PASSWORD, concurrency: 32, sessionTimeoutMs: 120_000 }, users);
  await sleep(1000);
  const after = treeMemory(serverPid);
  const closed = await pool.idleClose();
  const load = process.cpuUsage(load0);
  const serverCpuMs = treeCpuMs(serverPid) - cpu0;
  const wallMs = performance.now() - started; // open, hold 1 s, QUIT: what the CPU figures cover
  const n = opened.opened;
  const base = figures({
    sessions: n,
    errors: opened.errors + closed.errors,
    errorSamples: [...opened.errorSamples, ...closed.errorSamples].slice(0, 5),
    errorEvents: [],
    bytes: 0,
    messages: 0,
    latencies: new Float64Array(0),
    wallMs,
    loadCpuMs: (load.user + load.system) / 1000,
    serverCpuMs,
    dbCpuMs: dbCpuMs() - db0,
    systemCpuMs: systemBusyMs() - sys0,
    machineForks: forksSinceBoot() - forks0,
    cores,
  });
  return {
    ...base,
    memory: {
      opened: n,
      pssBeforeKiB: before.pssKiB,
      pssAfterKiB: after.pssKiB,
      processesAfter: after.processes,
      kibPerSession: n > 0 ? round((after.pssKiB - before.pssKiB) / n, 1) : NaN,
      totalKibPerSession: n > 0 ? round(after.pssKiB / n, 1) : NaN,
    },
  };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const plan: Plan = options.quick
    ? { throughputMs: 4000, bigSessions: 10, largeSessions: 10, profileMs: 5000, quietWaitMs: 3000 }
    : { throughputMs: 15_000, bigSessions: 40, largeSessions: 30, profileMs: 10_000, quietWaitMs: 20_000 };
  const cores = cpuCount();
  const mode = options.quick ? 'quick' : 'full';
  say(`mode ${mode}, ${cores} cores, load generator: ${options.loadThreads} worker thread(s)`);

  ensureDovecot(say);
  const root = mkdtempSync(join(tmpdir(), 'r2d2-popbench-'));
  chmodSync(root, 0o755); // Dovecot's mail processes (uid mail) walk through it
  const cleanups: (() => Promise<void> | void)[] = [];
  const cleanup = async (): Promise<void> => {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch (error) {
        say(`cleanup: ${(error as Error).message}`);
      }
    }
    cleanups.length = 0;
  };
  cleanups.push(() => {
    if (options.keep) say(`kept ${root}`);
    else rmSync(root, { recursive: true, force: true });
  });
  const interrupt = (): void => {
    say('interrupted: cleaning up');
    void cleanup().then(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  try {
    const { uid, gid } = mailUser();
    const users = Array.from({ length: USERS }, (_, i) => `u${String(i).padStart(4, '0')}@bench.example`);
    say(`maildirs: ${USERS} x 50 messages, one of ${BIG_COUNT} and one of 20 MiB, in two hard-linked trees under ${root}`);
    const mail = makeMail({ root, users, bigUser: 'big@bench.example', bigCount: BIG_COUNT, largeUser: 'large@bench.example', largeOctets: LARGE_OCTETS, uid, gid, crlf: options.crlf });

    const db = await BenchDatabase.create();
    cleanups.push(() => db.drop());
    await db.addUsers([...users, mail.big.user, mail.large.user].map((name) => ({ name, password: PASSWORD, maildir: join(mail.r2d2Root, name) })));
    say(`MariaDB: database ${db.name}, ${USERS + 2} accounts`);

    const cert = makeCertificate(join(root, 'tls'), { uid, gid });
    const [r2d2Port = 0, r2d2Stls = 0, r2d2Tls = 0, dovecotPort = 0, dovecotTls = 0, verifyingPort = 0, ceilingPort = 0, ceilingTls = 0, ceilingFiles = 0] = await freePorts(9);
    const ports = { r2d2: r2d2Port, r2d2Stls, r2d2Tls, dovecot: dovecotPort, dovecotTls, verifying: verifyingPort, ceiling: ceilingPort, ceilingTls, ceilingFiles };
    const personalityOptions = { dir: join(root, 'r2d2-conf'), port: ports.r2d2, stlsPort: ports.r2d2Stls, tlsPort: ports.r2d2Tls, tls: cert, database: db.name, mailRoot: mail.r2d2Root, uid, gid };
    const written = writePersonality(personalityOptions);
    const tlsPending = written.tls ? '' : 'pending TLS';
    if (!written.tls) say(`r2d2 has no TLS listeners yet (check-config: ${written.reason}): its TLS rows are "pending TLS"`);
    const r2d2Log = join(root, 'r2d2.log');
    const startR2d2 = (): Promise<R2d2Instance> => R2d2Instance.start(written.dir, ports.r2d2, r2d2Log);
    const startDovecot = (): Promise<DovecotInstance> =>
      DovecotInstance.start({
        dir: join(root, 'dovecot'), port: ports.dovecot, tlsPort: ports.dovecotTls, tls: cert, database: db.name,
        r2d2Root: mail.r2d2Root, mailRoot: mail.dovecotRoot, uid, gid, cores,
      });
    let r2d2 = await startR2d2();
    cleanups.push(() => r2d2.stop());
    let dovecot = await startDovecot();
    cleanups.push(() => dovecot.stop());
    say(`r2d2 pid ${r2d2.pid} on ${ports.r2d2}${written.tls ? `/${ports.r2d2Stls}/${ports.r2d2Tls}` : ''}, Dovecot ${dovecotVersion()} pid ${dovecot.pid} on ${ports.dovecot}/${ports.dovecotTls}`);

    const pool = await LoadPool.start(options.loadThreads);
    cleanups.push(() => pool.stop());
    const servers: Servers = {
      r2d2: { plain: ports.r2d2, stls: ports.r2d2Stls, tls: ports.r2d2Tls, tlsReady: written.tls, tlsPending },
      dovecot: { plain: ports.dovecot, tls: ports.dovecotTls },
    };

    const selected = ROWS.filter((r) => options.only === undefined || options.only.includes(r.id));
    let ceiling: CeilingInstance | undefined;
    if (selected.some(hasCeiling)) {
      const started = await CeilingInstance.start({ dir: join(root, 'ceiling'), port: ports.ceiling, tlsPort: ports.ceilingTls, tls: cert, workers: cores, mail, filesPort: options.ceilingReadsFiles ? ports.ceilingFiles : undefined });
      ceiling = started;
      cleanups.push(() => started.stop());
      say(`ceiling (in-memory Node, ${cores} processes) pid ${started.pid} on ${ports.ceiling}/${ports.ceilingTls}${options.ceilingReadsFiles ? `, reading each message's file on ${ports.ceilingFiles}` : ''}`);
      const w = await measure(pool, started.pid, { host: '127.0.0.1', port: ports.ceiling, transport: 'plain' }, 'retrieve', mail, users, { ...plan, throughputMs: 1000 }, cores);
      say(`warm-up ceiling: ${w.sessions} retrieve sessions (${w.errors} errors${w.errors > 0 ? `: ${w.errorSamples.join('; ')}` : ''})`);
    }
    // Warm-up: every maildrop once on each server (Dovecot builds its indexes; both get the
    // directories into the page cache; r2d2's JIT warms up). Not needed when only hashed rows run.
    const onlyMetricsCost = options.only !== undefined && options.only.every((id) => id === METRICS_COST_ID);
    const warmed = onlyMetricsCost ? (['r2d2'] as const) : selected.some((r) => r.hashed === undefined) ? (['r2d2', 'dovecot'] as const) : [];
    for (const server of warmed) {
      const pid = server === 'r2d2' ? r2d2.pid : dovecot.pid;
      const target = targetOf(servers, server, 'plain');
      const w = await measure(pool, pid, target, 'login', mail, users, { ...plan, throughputMs: 600_000 }, cores, Math.ceil(USERS / CONCURRENCY));
      const big = await measure(pool, pid, target, 'big', mail, users, { ...plan, bigSessions: 2 }, cores);
      const large = await measure(pool, pid, target, 'large', mail, users, { ...plan, largeSessions: 1 }, cores);
      // RETR's path too, as the ceiling's is: without it r2d2's optimizing compiler ran through
      // the first seconds of the retrieve row (a quarter of the engine's CPU in a quick run).
      const retrieve = await measure(pool, pid, target, 'retrieve', mail, users, { ...plan, throughputMs: RETRIEVE_WARM_UP_MS }, cores);
      // Then logins until the JIT has settled: after one pass over the maildrops, r2d2's
      // optimizing compiler still spent about 0.17 ms per session of the quick login row
      // (--trace-opt: ~1 s of compiles over its first 5,700 sessions), a start-up cost that a
      // running daemon has long paid.
      const settle = await measure(pool, pid, target, 'login', mail, users, { ...plan, throughputMs: LOGIN_WARM_UP_MS }, cores);
      say(`warm-up ${server}: ${w.sessions + settle.sessions} logins (${w.errors + settle.errors} errors), big maildrop ${big.p50Ms} ms, 20 MiB ${large.mbPerSec} MB/s, ${retrieve.sessions} retrieve sessions`);
      const errors = [...w.errorSamples, ...big.errorSamples, ...large.errorSamples, ...retrieve.errorSamples, ...settle.errorSamples];
      if (w.errors + big.errors + large.errors + retrieve.errors + settle.errors > 0) say(`warm-up errors: ${errors.join('; ')}`);
    }

    // Rows where the servers verify password hashes: their accounts and a second r2d2 that reads
    // the password column. Each such row is warmed up right before it is measured (Dovecot
    // first, so that r2d2's hashing threads have not idled out of its pool by the time it runs).
    const schemes = [...new Set(selected.map((r) => r.hashed).filter((h): h is HashedScheme => h !== undefined))];
    let hashed: HashedLogins | undefined;
    if (schemes.length > 0) {
      const count = Math.min(USERS, Math.max(32, 2 * CONCURRENCY));
      const maildirs = users.slice(0, count).map((name) => join(mail.r2d2Root, name));
      hashed = await HashedLogins.prepare({ root, db, maildirs, mailRoot: mail.r2d2Root, password: PASSWORD, schemes, uid, gid, say, port: ports.verifying });
      const verifying = hashed;
      cleanups.push(() => verifying.stop());
      say(`r2d2 verifying hashes itself: pid ${(await verifying.r2d2()).pid} on ${verifying.port}`);
    }
    const warmHashed = async (scheme: HashedScheme, verifying: HashedLogins): Promise<void> => {
      const instance = await verifying.r2d2();
      const accounts = verifying.usersOf(scheme);
      for (const [name, pid, port] of [['Dovecot', dovecot.pid, ports.dovecot], ['r2d2', instance.pid, verifying.port]] as const) {
        const target = { host: '127.0.0.1', port, transport: 'plain' } as const;
        const w = await measure(pool, pid, target, 'login', mail, accounts, { ...plan, throughputMs: 600_000 }, cores, Math.ceil(accounts.length / CONCURRENCY));
        // Then logins until r2d2's JIT has settled, as in the plain rows: this engine is a
        // second one, and after one pass its session threads still ran baseline code (perf:
        // V8's inline caches and tier-up compiles, about 1.8 ms per session above a plain login).
        const settle = await measure(pool, pid, target, 'login', mail, accounts, { ...plan, throughputMs: LOGIN_WARM_UP_MS }, cores);
        const errors = [...w.errorSamples, ...settle.errorSamples];
        say(`warm-up ${scheme} on ${name}: ${w.sessions + settle.sessions} logins (${w.errors + settle.errors} errors${errors.length > 0 ? `: ${errors.join('; ')}` : ''})`);
      }
    };

    const rows: RowResult[] = [];
    const readingCeilings = new Map<string, Side>();
    const perRun = new Map<string, Record<Server, Side[]>>();
    for (const spec of selected) {
      if (spec.hashed !== undefined && hashed !== undefined) await warmHashed(spec.hashed, hashed);
      // A slow hash makes few sessions a second: measure those rows twice as long.
      const rowPlan = spec.hashed === undefined ? plan : { ...plan, throughputMs: 2 * plan.throughputMs };
      const side = async (server: Server): Promise<Side> => {
        if (server === 'r2d2' && spec.transport !== 'plain' && !servers.r2d2.tlsReady) return { pending: servers.r2d2.tlsPending };
        const verifying = spec.hashed !== undefined && hashed !== undefined ? hashed : undefined;
        const pid = server === 'ceiling' || server === 'ceilingFiles' ? (ceiling?.pid ?? 0) : server === 'r2d2' ? (verifying === undefined ? r2d2.pid : (await verifying.r2d2()).pid) : dovecot.pid;
        const target =
          server === 'ceilingFiles'
            ? { host: '127.0.0.1', port: ports.ceilingFiles, transport: 'plain' as const }
            : server === 'ceiling'
            ? { host: '127.0.0.1', port: spec.transport === 'implicit' ? ports.ceilingTls : ports.ceiling, transport: spec.transport }
            : server === 'r2d2' && verifying !== undefined
              ? { host: '127.0.0.1', port: verifying.port, transport: 'plain' as const }
              : targetOf(servers, server, spec.transport);
        const accounts = spec.hashed !== undefined && verifying !== undefined ? verifying.usersOf(spec.hashed) : users;
        if (spec.workload === 'idle') return measureIdle(pool, pid, target, users, cores);
        await waitQuiet(plan.quietWaitMs);
        const first = await measure(pool, pid, target, spec.workload, mail, accounts, rowPlan, cores);
        if (first.otherCpuShare <= NOISY || plan.quietWaitMs < 10_000) return first;
        // Other jobs took a large share of the CPU: measure once more and keep the quieter run.
        say(`${spec.label}, ${server}: other jobs used ${Math.round(first.otherCpuShare * 100)}% of the CPU; measuring again`);
        await waitQuiet(plan.quietWaitMs);
        const second = await measure(pool, pid, target, spec.workload, mail, accounts, rowPlan, cores);
        return second.otherCpuShare < first.otherCpuShare ? second : first;
      };
      const sides: Server[] = hasCeiling(spec) && ceiling !== undefined ? ['r2d2', 'dovecot', 'ceiling'] : ['r2d2', 'dovecot'];
      if (sides.includes('ceiling') && options.ceilingReadsFiles && spec.transport === 'plain') sides.push('ceilingFiles');
      const measured: Record<Server, Side[]> = { r2d2: [], dovecot: [], ceiling: [], ceilingFiles: [] };
      for (const { run, server } of interleaved(sides, options.runs)) {
        if (spec.workload === 'idle' && server === sides[0]) {
          // Fresh processes, so that the memory baseline holds no heap or spare processes left
          // over from the rows (or runs) before (Dovecot's indexes stay warm on disk).
          await r2d2.stop();
          r2d2 = await startR2d2();
          await dovecot.stop();
          dovecot = await startDovecot();
          await sleep(2000);
        }
        const f = await side(server);
        measured[server].push(f);
        if (options.runs > 1) say(`${spec.label}, run ${run + 1}/${options.runs}, ${server}: ${brief(f, spec)}`);
      }
      perRun.set(spec.id, measured);
      const row = rowResult(spec, medianSide(measured.r2d2), medianSide(measured.dovecot), sides.includes('ceiling') ? medianSide(measured.ceiling) : undefined);
      rows.push(row);
      const ofCeiling = row.ofCeiling === undefined ? '' : ` | ceiling ${brief(row.ceiling ?? { pending: '' }, spec)} | of ceiling: r2d2 ${row.ofCeiling.r2d2}, Dovecot ${row.ofCeiling.dovecot}`;
      const runsNote = options.runs > 1 ? ` (medians of ${options.runs} runs)` : '';
      say(`${spec.label}${runsNote}: ${brief(row.r2d2, spec)} | Dovecot ${brief(row.dovecot, spec)}${ofCeiling} | ratio ${row.ratio ?? 'pending'}`);
      if (sides.includes('ceilingFiles')) {
        const files = medianSide(measured.ceilingFiles);
        readingCeilings.set(spec.id, files);
        say(`${spec.label}${runsNote}, the ceiling reading each message's file: ${brief(files, spec)} | ${ofReadingCeiling(spec, files, row)}`);
      }
    }

    let metricsCostRows: MetricsCost | undefined;
    if (options.only === undefined || options.only.includes(METRICS_COST_ID)) {
      await r2d2.stop();
      const metricsPort = await freePort();
      const withMetrics = writePersonality({ ...personalityOptions, dir: join(root, 'r2d2-metrics-conf'), metricsPort });
      metricsCostRows = await metricsCost({
        start: async (metrics) => {
          const instance = await R2d2Instance.start(metrics ? withMetrics.dir : written.dir, ports.r2d2, r2d2Log);
          return { pid: instance.pid, stop: () => instance.stop() };
        },
        measure: async (pid, workload, warmUp) => {
          if (!warmUp) await waitQuiet(plan.quietWaitMs);
          return measure(pool, pid, targetOf(servers, 'r2d2', 'plain'), workload, mail, users, warmUp ? { ...plan, throughputMs: 1500 } : plan, cores);
        },
        metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
        cpuMs: treeCpuMs,
        rounds: options.quick ? 2 : 3,
        say,
      });
    }

    const profiles: Partial<Record<Profiled, ProfileSummary>> = {};
    if (options.cpuProf.length > 0) {
      await r2d2.stop();
      for (const workload of options.cpuProf) {
        const { summary, instance } = await profileWorkload(workload, options, plan, servers, pool, mail, users, written.dir, r2d2Log, cores);
        r2d2 = instance; // stopped already; the cleanup's stop() is then a no-op
        profiles[workload] = summary;
      }
    }

    const machine = {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores,
      memoryGiB: round(totalmem() / 2 ** 30, 1),
      kernel: release(),
      node: process.version,
    };
    const result = {
      date: new Date().toISOString(),
      mode,
      machine,
      versions: { r2d2: r2d2Version(), dovecot: dovecotVersion() },
      setup: {
        concurrency: CONCURRENCY,
        throughputSeconds: plan.throughputMs / 1000,
        bigSessions: plan.bigSessions,
        largeSessions: plan.largeSessions,
        loadThreads: options.loadThreads,
        users: USERS,
        messagesPerUser: mail.standard.length,
        octetsPerUser: mail.standard.reduce((n, m) => n + m.served, 0),
        bigMaildrop: BIG_COUNT,
        largeMessageOctets: mail.large.message.served,
        r2d2Tls: written.tls ? 'on' : 'pending TLS',
        runs: options.runs,
        ceilingWorkers: ceiling === undefined ? 0 : cores,
        ceilingReadsFiles: options.ceilingReadsFiles,
      },
      rows: rows.map((r) => ({
        id: r.spec.id, label: r.spec.label, metric: r.spec.metric, target: r.spec.target, lowerIsBetter: r.spec.lowerIsBetter,
        ratio: r.ratio, ofCeiling: r.ofCeiling, cpuRatio: r.cpuRatio, checks: r.checks, met: r.met,
        r2d2: r.r2d2, dovecot: r.dovecot, ...(r.ceiling === undefined ? {} : { ceiling: r.ceiling }),
        ...(readingCeilings.has(r.spec.id) ? { ceilingReadingFiles: readingCeilings.get(r.spec.id) } : {}),
        ...(options.runs > 1 ? { runs: Object.fromEntries(Object.entries(perRun.get(r.spec.id) ?? {}).filter(([, list]) => list.length > 0)) } : {}),
      })),
      profiles,
      ...(metricsCostRows === undefined ? {} : { metricsCost: metricsCostRows }),
    };
    const partial = options.only !== undefined;
    const variant = `${options.crlf ? '-crlf' : ''}${options.ceilingReadsFiles ? '-ceiling-files' : ''}`;
    publish(result, { name: `${mode}${variant}${partial ? '-partial' : ''}`, writeJson: true, readme: !options.quick && !partial && variant === '' && options.readme }, say);
    // The delivery row (LMTP and r2d2 deliver against Dovecot's LMTP): its own servers and maildirs.
    if (!partial) process.stdout.write(`\n${deliveryTable(await runDeliveryRow(say, options.quick))}\n`);
  } finally {
    await cleanup();
  }
  say('done');
}

type Server = 'r2d2' | 'dovecot' | 'ceiling' | 'ceilingFiles';

/** r2d2 and Dovecot as fractions of the ceiling that reads files, and that ceiling of the in-memory one. */
function ofReadingCeiling(spec: RowSpec, files: Side, row: RowResult): string {
  const metric = (s: Side | undefined): number | undefined => (s !== undefined && isFigures(s) ? metricOf(s, spec.metric) : undefined);
  const fraction = (a: Side | undefined, b: Side | undefined): string => {
    const x = metric(a);
    const y = metric(b);
    return x === undefined || y === undefined || y === 0 ? 'pending' : (x / y).toFixed(3);
  };
  return `of it: r2d2 ${fraction(row.r2d2, files)}, Dovecot ${fraction(row.dovecot, files)}; it is ${fraction(files, row.ceiling)} of the in-memory ceiling`;
}

/** One server's runs on a row as one figure set: medians, or the first "pending" if any run was. */
function medianSide(runs: readonly Side[]): Side {
  const measured = runs.filter(isFigures);
  const pending = runs.find((r) => !isFigures(r));
  return pending !== undefined || measured.length === 0 ? (pending ?? { pending: 'not run' }) : medianFigures(measured);
}

function brief(f: Side, spec: RowSpec): string {
  if ('pending' in f) return f.pending;
  if (spec.workload === 'idle') return `${f.memory?.kibPerSession} KiB/session (${f.errors} errors)`;
  const other = f.otherCpuShare > 0.05 ? `, OTHER JOBS USED ${Math.round(f.otherCpuShare * 100)}% OF THE CPU, ${f.machineForks} forks` : '';
  return `${f.sessionsPerSec}/s ${f.mbPerSec} MB/s p50 ${f.p50Ms} ms p99 ${f.p99Ms} ms CPU ${f.serverCpuMsPerSession} ms/session (${f.errors} errors, load gen CPU ${Math.round(f.loadCpuShare * 100)}%${other})`;
}

/** A workload to profile, optionally over TLS: `login`, `retrieve-tls`, `login-stls` ... */
type Profiled = `${'login' | 'retrieve' | 'large'}${'' | '-stls' | '-tls'}`;
const PROFILED: readonly Profiled[] = ['login', 'retrieve', 'large', 'login-stls', 'login-tls', 'retrieve-tls', 'large-tls'];

function profiledRun(p: Profiled): { workload: 'login' | 'retrieve' | 'large'; transport: Transport } {
  const [workload, tls] = p.split('-') as ['login' | 'retrieve' | 'large', string | undefined];
  return { workload, transport: tls === 'stls' ? 'stls' : tls === 'tls' ? 'implicit' : 'plain' };
}

/** Runs one workload (plain) against a fresh r2d2 under `node --cpu-prof`; writes profile-<workload>.svg. */
async function profileWorkload(
  profiled: Profiled,
  options: Options,
  plan: Plan,
  servers: Servers,
  pool: LoadPool,
  mail: MailSet,
  users: readonly string[],
  personalityDir: string,
  logFile: string,
  cores: number,
): Promise<{ summary: ProfileSummary; instance: R2d2Instance }> {
  const dir = join(tmpdir(), `r2d2-popbench-prof-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o777); // the engine runs as the sessions' user and writes its profiles here too
  const instance = await R2d2Instance.start(personalityDir, servers.r2d2.plain, logFile, dir);
  const { workload, transport } = profiledRun(profiled);
  say(`profiling r2d2 (node --cpu-prof) under the ${profiled} workload`);
  const f = await measure(pool, instance.pid, targetOf(servers, 'r2d2', transport), workload, mail, users, { ...plan, throughputMs: plan.profileMs }, cores);
  await instance.stop();
  const files = readdirSync(dir).filter((n) => n.endsWith('.cpuprofile')).map((n) => join(dir, n));
  if (files.length === 0) throw new Error('node --cpu-prof wrote no profile');
  const summary = summarize(files);
  const out = join(REPO, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  const what = workload === 'large' ? `${f.mbPerSec} MB/s` : `${f.sessionsPerSec} sessions/s, ${f.mbPerSec} MB/s`;
  writeFileSync(
    join(out, `profile-${profiled}.svg`),
    flameSvg(files, `r2d2, ${workload} workload (${transport === 'implicit' ? 'implicit TLS' : transport === 'stls' ? 'STLS' : 'plain'}, ${workload === 'large' ? 1 : CONCURRENCY} clients): ${what} with the profiler on. Icicle: callers on top; hover for names`),
  );
  say(`wrote bench/results/profile-${profiled}.svg${options.keep ? ` (profiles: ${dir})` : ''}`);
  if (!options.keep) rmSync(dir, { recursive: true, force: true });
  return { summary, instance };
}

const reportFile = process.argv.find((a) => a.startsWith('--report='))?.slice('--report='.length);
(reportFile !== undefined ? Promise.resolve(report(reportFile, !process.argv.includes('--no-readme'), say)) : main()).catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
