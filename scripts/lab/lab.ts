// The lab (`npm run lab`): several r2d2 hosts as they would run on several machines, on this
// one. Network namespaces with their own addresses on a bridge; MariaDB Galera (two nodes and
// garbd); three r2d2 hosts on one maildir root, each in its own UTS, PID and mount namespaces;
// HAProxy (send-proxy-v2) and nginx's mail proxy in front; the existing load generator and
// deleting clients through HAProxy. Mid-load one host is killed (-9) and a database server is
// stopped; then the checks (checks.ts) and a report. Everything made is removed at the end,
// failure or not: processes by pid, namespaces, the temporary folder.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runChecks, type Check } from './checks';
import type { ClientResult, ClientSpec } from './client-spec';
import { Galera } from './galera';
import { Haproxy, startNginx } from './balancers';
import { readLog, sessions } from './log-lines';
import { createSchema, Deliveries, fillReaders, remainingIds, type LabUsers } from './mail';
import { LabNetwork, SUBNET, type LabNode } from './netns';
import { Processes, type LabProcess } from './processes';
import { R2d2Host, type HostSettings } from './r2d2-hosts';
import { sleep, until } from './exec';
import { KILL_WAIT_SECONDS, labPlan, type LabOptions, type LabPlan } from './plan';

const DIST = resolve(__dirname);
const COLLECTOR_PORT = 5514;

export interface LabReport {
  readonly ok: boolean;
  readonly checks: readonly Check[];
  readonly text: string;
}

export async function runLab(options: LabOptions, say: (line: string) => void = () => undefined, onCleanup?: (cleanup: () => Promise<void>) => void): Promise<LabReport> {
  const plan = labPlan(options);
  const id = randomBytes(2).toString('hex');
  const dir = mkdtempSync('/tmp/r2d2-lab-');
  chmodSync(dir, 0o755); // mariadbd runs as mysql and must reach its datadir
  const procs = new Processes(dir);
  let network: LabNetwork | undefined;
  let cleaned: Promise<void> | undefined;
  const cleanup = (): Promise<void> =>
    (cleaned ??= (async () => {
      await procs.killAll();
      for (const l of (await network?.destroy()) ?? []) say(`cleanup: ${l}`);
      if (options.keep === true) say(`kept ${dir}`);
      else rmSync(dir, { recursive: true, force: true });
    })());
  onCleanup?.(cleanup);
  const started = Date.now();
  try {
    network = await LabNetwork.create(`r2lab-${id}-`);
    const report = await run(plan, dir, network, procs, say);
    say(`lab finished in ${Math.round((Date.now() - started) / 1000)} s`);
    return report;
  } finally {
    await cleanup();
  }
}

async function run(plan: LabPlan, dir: string, network: LabNetwork, procs: Processes, say: (line: string) => void): Promise<LabReport> {
  const node = (name: string, host: number): Promise<LabNode> => network.addNode(name, host);
  const [db1, db2, garb, lb, ngx, client] = await Promise.all([node('db1', 11), node('db2', 12), node('garb', 13), node('lb', 5), node('ngx', 6), node('client', 100)]);
  const hostNodes = await Promise.all([node('h1', 21), node('h2', 22), node('h3', 23)]);
  if (db1 === undefined || db2 === undefined || garb === undefined || lb === undefined || ngx === undefined || client === undefined) throw new Error('nodes');
  say(`network: namespaces ${network.prefix}* on ${SUBNET}.0/24`);

  const logFile = join(dir, 'syslog.log');
  const collector = procs.start('collector', client.ns, [process.execPath, join(DIST, 'collector.js'), client.address, String(COLLECTOR_PORT), logFile], join(dir, 'collector.out'));
  await until('the log collector', 30_000, () => collector.output.includes('listening'));

  const mailRoot = join(dir, 'mail');
  mkdirSync(mailRoot);
  const users: LabUsers = {
    readers: Array.from({ length: plan.readers }, (_, i) => `r${String(i + 1).padStart(3, '0')}`),
    deleters: Array.from({ length: plan.deleters }, (_, i) => `d${String(i + 1).padStart(3, '0')}`),
    password: 'lab-pw',
    accountsPassword: randomBytes(9).toString('base64url'),
    lockPassword: randomBytes(9).toString('base64url'),
  };
  const galera = await Galera.start(join(dir, 'db'), { db1, db2, garb }, procs, (db) => createSchema(db, users, mailRoot, SUBNET), say);
  say('galera: db1, db2 and garbd in one cluster');
  const sizes = await fillReaders(mailRoot, users.readers, plan.readerMessages);
  const deliveries = new Deliveries(mailRoot);
  for (const user of users.deleters) for (let i = 0; i < 2; i++) await deliveries.deliver(user);

  const settings: HostSettings = {
    mailRoot,
    dbHosts: [`${db1.address}:3306`, `${db2.address}:3306`],
    accountsPassword: users.accountsPassword,
    lockPassword: users.lockPassword,
    trustedProxies: [`${lb.address}/32`, `${ngx.address}/32`],
    collector: `${client.address}:${COLLECTOR_PORT}`,
    backend: 'database',
    leaseSeconds: plan.leaseSeconds,
    port: 110,
    proxyProtocol: true,
  };
  const [h1, h2, h3] = hostNodes;
  if (h1 === undefined || h2 === undefined || h3 === undefined) throw new Error('hosts');
  const hosts = [
    R2d2Host.start(procs, dir, 'lab-h1', h1, { ...settings, extra: `auth_http { address = "${h1.address}"  port = 8110  default_host = "${h3.address}"  default_port = 110 }` }),
    R2d2Host.start(procs, dir, 'lab-h2', h2, settings),
    R2d2Host.start(procs, dir, 'lab-h3', h3, settings),
  ];
  await waitEngines(logFile, hosts.map((h) => ({ name: h.hostname, proc: h.proc })), 180_000);
  say('r2d2: lab-h1, lab-h2, lab-h3 ready (maildrop_lock backend = database)');
  const haproxy = Haproxy.start(procs, dir, lb, hosts.map((h) => ({ name: h.hostname, address: h.node.address, port: 110 })));
  await haproxy.waitUp(hosts.map((h) => h.hostname), 60_000);
  const nginx = startNginx(procs, dir, ngx, `${h1.address}:8110`);
  say('balancers: HAProxy (send-proxy-v2) and nginx (auth_http on lab-h1, proxy_protocol) up');

  // The load, with the kill and the database stop in its middle.
  const t0 = Date.now() + 1000;
  const deadline = t0 + plan.seconds * 1000;
  const spec: ClientSpec = {
    mode: 'load',
    balancer: { host: lb.address, port: 110 },
    nginx: nginx.running ? { host: ngx.address, port: 110, users: users.readers.slice(0, 3) } : undefined,
    password: users.password,
    readers: users.readers,
    readerClients: plan.readerClients,
    readerThreads: plan.readerThreads,
    expectCount: plan.readerMessages,
    expectSizes: sizes,
    deleters: users.deleters,
    holdMs: plan.holdMs,
    deadline,
    out: join(dir, 'client-result.json'),
  };
  const result = await runClient(procs, client, dir, spec, async () => {
    let next = 0;
    const deliverer = (async () => {
      while (Date.now() < deadline - 2000) {
        const user = users.deleters[next++ % users.deleters.length];
        if (user !== undefined) await deliveries.deliver(user);
        await sleep(plan.deliverEveryMs);
      }
    })();
    await sleep(t0 + plan.killAfterSeconds * 1000 - Date.now());
    await untilHolding(logFile, 'lab-h2', KILL_WAIT_SECONDS * 1000);
    const killedAt = Date.now();
    hosts[1]?.crash();
    say(`load: kill -9 of lab-h2 at +${((killedAt - t0) / 1000).toFixed(1)} s`);
    await sleep(killedAt + plan.dbStopAfterKillSeconds * 1000 - Date.now());
    const dbStoppedAt = Date.now();
    say(`load: stopping database server db1 at +${((dbStoppedAt - t0) / 1000).toFixed(1)} s`);
    await galera.stopNode('db1');
    say(`load: db1 stopped in ${((Date.now() - dbStoppedAt) / 1000).toFixed(1)} s; db2 now ${JSON.stringify(await galera.status('db2'))}`);
    await deliverer;
    return { killedAt, dbStoppedAt };
  });
  await sleep(1500); // the last lines on their way to the collector
  const lines = readLog(logFile);
  const checks = runChecks({
    lines,
    sessions: sessions(lines),
    client: result.client,
    killedHost: 'lab-h2',
    killedAt: result.killedAt,
    dbStoppedAt: result.dbStoppedAt,
    leaseMs: plan.leaseSeconds * 1000,
    delivered: deliveries.delivered,
    remaining: remainingIds(mailRoot, users.deleters),
  });
  checks.push(nginxCheck(result.client));
  checks.push(await localDemo(procs, dir, { h1, h3, client }, settings, users, logFile));
  const ok = checks.every((c) => c.ok);
  const text = formatReport(plan, checks, ok);
  return { ok, checks, text };
}

/** Waits (up to `ms`) until `host` holds a maildrop: a session logged in and not releasing yet. */
async function untilHolding(logFile: string, host: string, ms: number): Promise<void> {
  await until(`${host} to hold a maildrop`, ms, () => [...sessions(readLog(logFile)).values()].some((s) => s.host === host && s.loginAt !== undefined && s.heldUntil === undefined), 100).catch(
    () => undefined, // the checks will say the kill proved nothing
  );
}

async function waitEngines(logFile: string, hosts: readonly { name: string; proc: LabProcess }[], timeoutMs: number): Promise<void> {
  await until('every r2d2 host to be ready', timeoutMs, () => {
    const lines = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
    for (const h of hosts) if (!h.proc.running) throw new Error(`${h.name} exited:\n${h.proc.output.slice(-3000)}`);
    return hosts.every((h) => lines.includes(` ${h.name} `) && new RegExp(` ${h.name} \\S+ \\d+ - - engine ready`).test(lines));
  }, 500);
}

async function runClient(
  procs: Processes,
  client: LabNode,
  dir: string,
  spec: ClientSpec,
  during: () => Promise<{ killedAt: number; dbStoppedAt: number }>,
): Promise<{ client: ClientResult; killedAt: number; dbStoppedAt: number }> {
  const file = join(dir, `client-${spec.mode}.json`);
  writeFileSync(file, JSON.stringify(spec));
  const proc = procs.start(`client-${spec.mode}`, client.ns, [process.execPath, join(DIST, 'client.js'), file], join(dir, `client-${spec.mode}.out`));
  const events = await during();
  await proc.exited;
  if (!existsSync(spec.out)) throw new Error(`the lab client failed:\n${proc.output.slice(-3000)}`);
  // The client is our own program, and wrote this file just now.
  const result = JSON.parse(readFileSync(spec.out, 'utf8')) as ClientResult;
  return { client: result, ...events };
}

function nginxCheck(client: ClientResult): Check {
  const n = client.nginx;
  if (n === undefined) return { name: 'logins through nginx (auth_http)', ok: false, lines: ['nginx did not start'] };
  return { name: 'logins through nginx (auth_http)', ok: n.failed.length === 0 && n.ok > 0, lines: [`${n.ok} logins through nginx's mail proxy, ${n.failed.length} failed`, ...n.failed.slice(0, 3)] };
}

/**
 * backend = local on shared storage: two more hosts (own host names, lock files) on the same
 * maildir root; a user logged in on the first is refused on the second, which logs the conflict.
 */
async function localDemo(procs: Processes, dir: string, nodes: { h1: LabNode; h3: LabNode; client: LabNode }, base: HostSettings, users: LabUsers, logFile: string): Promise<Check> {
  const settings: HostSettings = { ...base, backend: 'local', port: 1110, proxyProtocol: false };
  const l1 = R2d2Host.start(procs, dir, 'lab-l1', nodes.h1, settings);
  const l2 = R2d2Host.start(procs, dir, 'lab-l2', nodes.h3, settings);
  await waitEngines(logFile, [l1, l2].map((h) => ({ name: h.hostname, proc: h.proc })), 180_000);
  const user = users.readers[0] ?? 'r001';
  const spec: ClientSpec = {
    mode: 'local-demo',
    balancer: { host: nodes.h1.address, port: 1110 },
    password: users.password,
    readers: [],
    readerClients: 0,
    readerThreads: 0,
    expectCount: 0,
    expectSizes: [],
    deleters: [],
    holdMs: 0,
    deadline: 0,
    demo: { first: { host: nodes.h1.address, port: 1110 }, second: { host: nodes.h3.address, port: 1110 }, user },
    out: join(dir, 'client-demo.json'),
  };
  const { client } = await runClient(procs, nodes.client, dir, spec, async () => ({ killedAt: 0, dbStoppedAt: 0 }));
  await sleep(1000);
  const conflict = readLog(logFile).find((l) => l.host === 'lab-l2' && l.text.startsWith('lock refused: maildrop lock conflict'));
  const demo = client.demo;
  const ok = demo !== undefined && demo.first.startsWith('+OK') && demo.second.startsWith('-ERR [IN-USE]') && conflict !== undefined && conflict.severity <= 3;
  return {
    name: 'backend = local on shared storage across hosts is detected and refused',
    ok,
    lines: [
      `lab-l1 (lock files): ${demo?.first ?? '?'}`,
      `lab-l2 (lock files), same user meanwhile: ${demo?.second ?? '?'}`,
      `lab-l2 logged (error): ${conflict === undefined ? 'nothing' : `${conflict.text.trim()} reason="${conflict.fields.get('reason') ?? ''}"`}`,
    ],
  };
}

function formatReport(plan: LabPlan, checks: readonly Check[], ok: boolean): string {
  const head = [
    'r2d2 lab report',
    `  ${plan.readers} reader maildrops (bench/load), ${plan.deleters} deleting clients, ${plan.seconds} s of load through HAProxy; lease ${plan.leaseSeconds} s`,
    `  kill -9 of lab-h2 after ${plan.killAfterSeconds} s (once it holds a maildrop); database server db1 stopped ${plan.dbStopAfterKillSeconds} s after the kill`,
    '',
  ];
  const body = checks.flatMap((c) => [`${c.ok ? 'PASS' : 'FAIL'}  ${c.name}`, ...c.lines.map((l) => `      ${l}`)]);
  return [...head, ...body, '', ok ? 'all checks passed' : 'SOME CHECKS FAILED'].join('\n');
}
