// The soak: a real `r2d2 serve` (supervisor, engine, worker threads) under a bounded mixed load
// -- logins, RETR, DELE+QUIT, RSET, dropped sessions, pipelined bursts, implicit TLS, STLS, bad
// commands -- with the engine's and the supervisor's RSS and open fds sampled from /proc:
// after a warm-up (baseline, the load paused and every session ended), under load, and at the
// end (the load stopped, every session ended). Used by scripts/soak (npm run soak, minutes) and
// test/integration/soak.test.ts (seconds, in CI).
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCertificates, type CertificateSet } from './certificates';
import { LineSocket } from './line-socket';
import { MailRoot, putMessage, sampleMessage } from './maildir';
import { TestDatabase } from './mariadb';
import { spawnedConfig } from './spawned-server';

const R2D2 = join(__dirname, '../../../bin/r2d2');

export interface SoakOptions {
  /** Seconds of measured load after the warm-up. */
  readonly seconds: number;
  readonly warmupSeconds: number;
  /** Concurrent client loops. */
  readonly clients: number;
  /** The server's worker threads. */
  readonly threads: number;
  /** Seconds between samples under load. */
  readonly sampleEvery: number;
  /** Progress lines (a sample, a phase); nothing when undefined. */
  readonly progress?: (line: string) => void;
}

export interface ProcSample {
  readonly rssKb: number;
  readonly fds: number;
}

export interface Sample {
  readonly at: number;
  readonly sessions: number;
  readonly engine: ProcSample;
  readonly supervisor: ProcSample;
}

export interface SoakReport {
  readonly seconds: number;
  readonly sessions: number;
  readonly byKind: Readonly<Record<string, number>>;
  readonly failures: number;
  /** The first failures, for the report. */
  readonly failureSamples: readonly string[];
  readonly before: Sample;
  readonly after: Sample;
  readonly peak: ProcSample;
  readonly timeline: readonly Sample[];
  readonly serverErrors: readonly string[];
  readonly verdict: { readonly ok: boolean; readonly reasons: readonly string[] };
}

/** The bounds the verdict applies: fds back to the baseline, RSS within a generous margin. */
export const FD_SLACK = 4;
export const RSS_SLACK_KB = 64 * 1024;
export const RSS_SLACK_RATIO = 0.5;

// ---------------------------------------------------------------------------------------------
// /proc

export function procSample(pid: number): ProcSample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return { rssKb: Number(rss?.[1] ?? 0), fds: readdirSync(`/proc/${pid}/fd`).length };
}

// ---------------------------------------------------------------------------------------------
// The server

class SoakServer {
  private tail: string[] = [];
  private partial = '';
  connected = 0;
  disconnected = 0;
  readonly errors: string[] = [];
  enginePid = 0;
  readonly ports = new Map<string, number>();
  readonly exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => this.take(d));
    child.stderr?.on('data', (d: Buffer) => this.take(d));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static async start(dir: string, c11n: string): Promise<SoakServer> {
    writeFileSync(join(dir, 'c11n'), c11n);
    const { NODE_OPTIONS: _ignored, ...env } = process.env;
    const server = new SoakServer(spawn(R2D2, ['serve', '-p', dir], { env }));
    const deadline = Date.now() + 30_000;
    while (server.enginePid === 0 || server.ports.size < 2) {
      if (Date.now() > deadline || server.child.exitCode !== null) throw new Error(`the server did not start:\n${server.recent()}`);
      await sleep(25);
    }
    return server;
  }

  get supervisorPid(): number {
    return this.child.pid ?? 0;
  }

  recent(): string {
    return this.tail.join('\n');
  }

  /** Counts lines as they come, keeping only the last 200 (a long soak logs millions). */
  private take(data: Buffer): void {
    const lines = (this.partial + data.toString()).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      if (/\] connected /.test(line)) this.connected++;
      else if (/\] disconnected: /.test(line)) this.disconnected++;
      else if (/command failed|session failed|worker thread died|engine exited|uncaught|unhandled/i.test(line)) this.errors.push(line);
      const ready = /\[(\d+)\]: engine ready/.exec(line);
      if (ready !== null) this.enginePid = Number(ready[1]);
      const port = /listening on [^ ]+:(\d+) listener="([^"]+)"/.exec(line);
      if (port !== null) this.ports.set(port[2] ?? '', Number(port[1]));
      this.tail.push(line);
      if (this.tail.length > 200) this.tail.shift();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// A small client over a plain or TLS socket

class Wire {
  private constructor(private readonly wire: LineSocket) {}

  static async open(port: number, tls?: { ca: Buffer }): Promise<Wire> {
    const wire = new Wire(await LineSocket.connect(port, tls));
    await wire.status('+OK');
    return wire;
  }

  startTls(ca: Buffer): Promise<void> {
    return this.wire.startTls(ca);
  }

  send(text: string): void {
    this.wire.send(text);
  }

  /** A status line; throws unless it starts with `expect` (when given). */
  async status(expect?: '+OK' | '-ERR'): Promise<string> {
    const line = await this.line();
    if (expect !== undefined && !line.startsWith(expect)) throw new Error(`expected ${expect}, got ${JSON.stringify(line.slice(0, 120))}`);
    return line;
  }

  async cmd(line: string, expect: '+OK' | '-ERR' = '+OK'): Promise<string> {
    this.send(line + '\r\n');
    return this.status(expect);
  }

  /** A multi-line body after its +OK; returns its un-stuffed octets. */
  async body(): Promise<number> {
    let octets = 0;
    for (;;) {
      const line = await this.line();
      if (line === '.') return octets;
      octets += Buffer.byteLength(line, 'latin1') - (line.startsWith('.') ? 1 : 0) + 2;
    }
  }

  async multi(line: string): Promise<number> {
    await this.cmd(line);
    return this.body();
  }

  /** USER/PASS; a maildrop still locked by this loop's previous, dropped session is waited for. */
  async login(user: string): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      await this.cmd(`USER ${user}`);
      this.send('PASS pw\r\n');
      const reply = await this.status();
      if (reply.startsWith('-ERR [IN-USE]') && attempt < 100) {
        await sleep(20);
        continue;
      }
      if (!reply.startsWith('+OK')) throw new Error(`PASS: ${reply}`);
      return Number(/ has (\d+) message/.exec(reply)?.[1] ?? NaN);
    }
  }

  waitClosed(): Promise<void> {
    return this.wire.waitClosed();
  }

  destroy(): void {
    this.wire.destroy();
  }

  private async line(): Promise<string> {
    const line = await this.wire.readLine();
    if (line === undefined) throw new Error('closed by the server');
    return line.toString('latin1');
  }
}

// ---------------------------------------------------------------------------------------------
// Sessions

interface Context {
  readonly plain: number;
  readonly implicit: number;
  readonly ca: Buffer;
  readonly mail: MailRoot;
  /** Maildir of each user. */
  readonly dirs: Map<string, string>;
  readonly random: () => number;
}

type Kind = 'list' | 'retr' | 'dele+quit' | 'rset' | 'drop mid-RETR' | 'pipelined' | 'implicit TLS' | 'STLS' | 'bad commands' | 'connect+close';

/** Each kind with its share of the mix. */
const MIX: ReadonlyArray<readonly [Kind, number]> = [
  ['list', 18],
  ['retr', 20],
  ['dele+quit', 8],
  ['rset', 5],
  ['drop mid-RETR', 8],
  ['pipelined', 12],
  ['implicit TLS', 12],
  ['STLS', 7],
  ['bad commands', 5],
  ['connect+close', 5],
];

function pick(random: () => number): Kind {
  const total = MIX.reduce((a, [, w]) => a + w, 0);
  let r = random() * total;
  for (const [kind, weight] of MIX) {
    r -= weight;
    if (r < 0) return kind;
  }
  return 'list';
}

function refill(ctx: Context, user: string): void {
  const md = ctx.dirs.get(user) ?? '';
  const have = readdirSync(join(md, 'new')).length + readdirSync(join(md, 'cur')).length;
  if (have < 8) for (let i = 0; i < 12; i++) putMessage(md, message(i));
}

/** Messages of 1 to ~200 KB. */
function message(i: number): string {
  const lines = [3, 30, 300, 3000][i % 4] ?? 3;
  return sampleMessage(i, lines);
}

async function session(kind: Kind, user: string, ctx: Context): Promise<void> {
  refill(ctx, user);
  const n = (count: number): number => 1 + Math.floor(ctx.random() * Math.min(count, 8));
  if (kind === 'connect+close') {
    const w = await Wire.open(ctx.plain);
    w.destroy();
    return;
  }
  if (kind === 'implicit TLS') {
    const w = await Wire.open(ctx.implicit, { ca: ctx.ca });
    try {
      const count = await w.login(user);
      await w.multi(`RETR ${n(count)}`);
      await w.cmd('QUIT');
      await w.waitClosed();
    } finally {
      w.destroy();
    }
    return;
  }
  const w = await Wire.open(ctx.plain);
  try {
    switch (kind) {
      case 'list': {
        await w.login(user);
        await w.cmd('STAT');
        await w.multi('LIST');
        await w.multi('UIDL');
        break;
      }
      case 'retr': {
        const count = await w.login(user);
        for (let i = 0; i < 3; i++) {
          const head = await w.cmd(`RETR ${n(count)}`);
          const octets = await w.body();
          if (head !== `+OK ${octets} octets`) throw new Error(`${head} but ${octets} octets received`);
        }
        break;
      }
      case 'dele+quit': {
        const count = await w.login(user);
        const number = n(count);
        await w.cmd(`DELE ${number}`);
        const quit = await w.cmd('QUIT');
        if (quit !== '+OK r2d2 signing off (1 message deleted)') throw new Error(`QUIT: ${quit}`);
        await w.waitClosed();
        return;
      }
      case 'rset': {
        const count = await w.login(user);
        await w.cmd(`DELE ${n(count)}`);
        await w.cmd('RSET');
        const quit = await w.cmd('QUIT');
        if (quit !== '+OK r2d2 signing off') throw new Error(`QUIT after RSET: ${quit}`);
        await w.waitClosed();
        return;
      }
      case 'drop mid-RETR': {
        const count = await w.login(user);
        w.send(`RETR ${n(count)}\r\n`);
        await w.status('+OK');
        w.destroy(); // without reading the body, without QUIT: nothing may be deleted, nothing leaks
        return;
      }
      case 'pipelined': {
        const count = await w.login(user);
        const m = n(count);
        w.send(`STAT\r\nLIST\r\nUIDL ${m}\r\nRETR ${m}\r\nTOP ${m} 5\r\nNOOP\r\nDELE ${m}\r\nRSET\r\nQUIT\r\n`);
        await w.status('+OK');
        await w.status('+OK');
        await w.body();
        await w.status('+OK');
        await w.status('+OK');
        await w.body();
        await w.status('+OK');
        await w.body();
        for (let i = 0; i < 4; i++) await w.status('+OK');
        await w.waitClosed();
        return;
      }
      case 'STLS': {
        await w.cmd('STLS');
        await w.startTls(ctx.ca);
        await w.login(user);
        await w.cmd('STAT');
        break;
      }
      case 'bad commands': {
        await w.cmd('XYZZY', '-ERR');
        await w.cmd('RETR 1', '-ERR');
        w.send('\x00\x01\xff binary\r\n');
        await w.status('-ERR');
        await w.multi('CAPA');
        break;
      }
      default:
        break;
    }
    await w.cmd('QUIT');
    await w.waitClosed();
  } finally {
    w.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// The run

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A small seeded PRNG (mulberry32): the mix is the same from run to run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const say = options.progress ?? ((): void => undefined);
  const db = await TestDatabase.create();
  const mail = new MailRoot();
  const certs: CertificateSet = makeCertificates();
  const dir = mkdtempSync(join(tmpdir(), 'r2d2-soak-'));
  let server: SoakServer | undefined;
  try {
    chmodSync(mail.path, 0o755);
    const users = Array.from({ length: options.clients * 2 }, (_, i) => `soak${i}`);
    const dirs = new Map<string, string>();
    for (const u of users) {
      const md = mail.maildir(u);
      for (let i = 0; i < 12; i++) putMessage(md, message(i));
      await db.addUser(u, 'pw', md);
      dirs.set(u, md);
    }
    const files = `certificate = "${certs.cert}"  private_key = "${certs.key}"`;
    const extra = `
listen "stls" { address = "127.0.0.1"  port = 0  tls = stls  plaintext_auth = always  ${files} }
listen "pop3s" { address = "127.0.0.1"  port = 0  tls = implicit  ${files} }
limits { auth_failure_delay_ms = 0  max_connections_per_address = 100000  max_connections = 100000 }
log { destination = stdout  level = info }
`;
    // spawnedConfig's plain "pop3" listener is not used: STLS and plain sessions share "stls".
    server = await SoakServer.start(dir, spawnedConfig(db.name, mail.path, extra, options.threads));
    const s = server;
    const ctx: Context = { plain: s.ports.get('stls') ?? 0, implicit: s.ports.get('pop3s') ?? 0, ca: readFileSync(certs.ca), mail, dirs, random: prng(20261127) };
    say(`server up: supervisor ${s.supervisorPid}, engine ${s.enginePid}, ${options.threads} worker threads; ${options.clients} client loops`);

    const byKind: Record<string, number> = {};
    let sessions = 0;
    let failures = 0;
    const failureSamples: string[] = [];
    /** Runs the client loops until `until`; each loop has two users of its own (no [IN-USE]). */
    const load = async (until: number): Promise<void> => {
      await Promise.all(
        Array.from({ length: options.clients }, async (_, loop) => {
          for (let i = 0; Date.now() < until; i++) {
            const kind = pick(ctx.random);
            const user = users[loop * 2 + (i % 2)] ?? 'soak0';
            try {
              await withTimeout(session(kind, user, ctx), 60_000, `${kind} session`);
              byKind[kind] = (byKind[kind] ?? 0) + 1;
              sessions++;
            } catch (e) {
              failures++;
              if (failureSamples.length < 20) failureSamples.push(`${kind} (${user}): ${(e as Error).message}`);
            }
          }
        }),
      );
    };
    /** Every session ended on the server (connected == disconnected), then the lowest of a few samples. */
    const quiet = async (): Promise<Sample> => {
      const deadline = Date.now() + 60_000;
      while (s.disconnected < s.connected && Date.now() < deadline) await sleep(50);
      await sleep(500);
      const samples: Sample[] = [];
      for (let i = 0; i < 5; i++) {
        samples.push(sample());
        await sleep(200);
      }
      const min = (f: (x: Sample) => number): number => Math.min(...samples.map(f));
      return {
        at: samples[0]?.at ?? 0,
        sessions,
        engine: { rssKb: min((x) => x.engine.rssKb), fds: min((x) => x.engine.fds) },
        supervisor: { rssKb: min((x) => x.supervisor.rssKb), fds: min((x) => x.supervisor.fds) },
      };
    };
    const started = Date.now();
    const sample = (): Sample => ({ at: (Date.now() - started) / 1000, sessions, engine: procSample(s.enginePid), supervisor: procSample(s.supervisorPid) });

    say(`warm-up: ${options.warmupSeconds} s`);
    await load(Date.now() + options.warmupSeconds * 1000);
    const before = await quiet();
    say(`baseline after ${before.sessions} sessions: ${describe(before)}`);

    const timeline: Sample[] = [before];
    const peak = { rssKb: before.engine.rssKb, fds: before.engine.fds };
    const end = Date.now() + options.seconds * 1000;
    const sampler = setInterval(() => {
      const x = sample();
      timeline.push(x);
      peak.rssKb = Math.max(peak.rssKb, x.engine.rssKb);
      peak.fds = Math.max(peak.fds, x.engine.fds);
      say(`${x.at.toFixed(0).padStart(5)} s  ${String(x.sessions).padStart(7)} sessions  ${describe(x)}`);
    }, options.sampleEvery * 1000);
    try {
      await load(end);
    } finally {
      clearInterval(sampler);
    }
    const after = await quiet();
    timeline.push(after);
    say(`after ${after.sessions} sessions, all ended: ${describe(after)}`);

    const reasons: string[] = [];
    for (const who of ['engine', 'supervisor'] as const) {
      if (after[who].fds > before[who].fds + FD_SLACK) reasons.push(`${who}: ${after[who].fds} fds after, ${before[who].fds} at the baseline (slack ${FD_SLACK})`);
      const bound = before[who].rssKb + Math.max(RSS_SLACK_KB, before[who].rssKb * RSS_SLACK_RATIO);
      if (after[who].rssKb > bound) reasons.push(`${who}: RSS ${mb(after[who].rssKb)} after, over the bound ${mb(bound)} (baseline ${mb(before[who].rssKb)})`);
    }
    if (failures > 0) reasons.push(`${failures} sessions failed`);
    if (s.errors.length > 0) reasons.push(`${s.errors.length} server error lines`);
    if (s.child.exitCode !== null) reasons.push('the server exited');
    return {
      seconds: options.seconds,
      sessions: after.sessions - before.sessions,
      byKind,
      failures,
      failureSamples,
      before,
      after,
      peak,
      timeline,
      serverErrors: s.errors.slice(0, 20),
      verdict: { ok: reasons.length === 0, reasons },
    };
  } finally {
    if (server !== undefined && server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      const killer = setTimeout(() => server?.child.kill('SIGKILL'), 10_000);
      await server.exited;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
    certs.remove();
    mail.remove();
    await db.drop();
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no progress in ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export const mb = (kb: number): string => `${(kb / 1024).toFixed(1)} MB`;

function describe(x: Sample): string {
  return `engine RSS ${mb(x.engine.rssKb)} fds ${x.engine.fds}; supervisor RSS ${mb(x.supervisor.rssKb)} fds ${x.supervisor.fds}`;
}

/** The report as text: the figures, the mix, and the verdict with its reasons. */
export function formatReport(r: SoakReport): string {
  const rows = [
    ['', 'baseline', 'after', 'peak (load)'],
    ['engine RSS', mb(r.before.engine.rssKb), mb(r.after.engine.rssKb), mb(r.peak.rssKb)],
    ['engine fds', String(r.before.engine.fds), String(r.after.engine.fds), String(r.peak.fds)],
    ['supervisor RSS', mb(r.before.supervisor.rssKb), mb(r.after.supervisor.rssKb), ''],
    ['supervisor fds', String(r.before.supervisor.fds), String(r.after.supervisor.fds), ''],
  ];
  const table = rows.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(16) : c.padStart(12))).join('')).join('\n');
  const mix = Object.entries(r.byKind)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return [
    `soak: ${r.sessions} sessions in ${r.seconds} s (${(r.sessions / r.seconds).toFixed(0)}/s) after the warm-up; ${r.failures} failed`,
    `mix (whole run): ${mix}`,
    table,
    ...r.failureSamples.map((f) => `  failed: ${f}`),
    ...r.serverErrors.map((e) => `  server: ${e}`),
    `verdict: ${r.verdict.ok ? 'PASS' : 'FAIL'}${r.verdict.reasons.map((x) => `\n  - ${x}`).join('')}`,
    `(bounds: fds back to the baseline +${FD_SLACK}; RSS within the baseline + max(${mb(RSS_SLACK_KB)}, ${RSS_SLACK_RATIO * 100}%))`,
  ].join('\n');
}
