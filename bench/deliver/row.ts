// The delivery row of `npm run bench`: deliveries/s and CPU ms per delivery for r2d2's LMTP
// listener and Dovecot's LMTP (dovecot-lmtpd), 8 connections each, every message fsynced by
// both, and for `r2d2 deliver` started once per message through a pipe, 8 at a time. The same
// MariaDB accounts (200 users) and the same 4 KB message; each server's whole process tree is
// measured from /proc.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { treeCpuMs } from '../measure/proc';
import { median } from '../report/median';
import { round } from '../report/stats';
import { BenchDatabase, DB } from '../setup/database';
import { REPO, R2d2Instance } from '../setup/r2d2';
import { freePort } from '../setup/util';
import { DovecotLmtp, lmtpInstalled } from './dovecot-lmtp';
import { runLmtpLoad } from './lmtp-load';

const USERS = 200;
const CONNECTIONS = 8;
/**
 * Before each measured run, the same load unmeasured. One second left the first run of each
 * server 0.1-0.3 ms per delivery dearer than the next ones (r2d2's JIT still warming, and a
 * file system that had just seen the previous row's files removed); five take most of that.
 */
const WARM_UP_MS = 5000;

export interface DeliveryFigures {
  readonly deliveriesPerSec: number;
  readonly cpuMsPerDelivery: number;
  readonly deliveries: number;
  readonly errors: number;
}

export interface DeliveryRow {
  readonly r2d2Lmtp: DeliveryFigures;
  readonly dovecotLmtp: DeliveryFigures | { readonly pending: string };
  readonly r2d2Pipe: DeliveryFigures | { readonly pending: string };
}

function message(): Buffer {
  const body = Array.from({ length: 50 }, (_, i) => `Line ${i} of the body, long enough to look like text in a real message.`).join('\r\n');
  const text = `From: Bench Sender <bench@sender.example>\r\nTo: someone@bench.example\r\nSubject: delivery bench\r\nMessage-ID: <bench@sender.example>\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\n\r\n${body}\r\n`;
  return Buffer.from(text);
}

function mailUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('mail:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  return { uid: Number(uid), gid: Number(gid) };
}

function figures(deliveries: number, errors: number, wallMs: number, cpuMs: number): DeliveryFigures {
  return { deliveries, errors, deliveriesPerSec: round((deliveries * 1000) / wallMs, 1), cpuMsPerDelivery: round(cpuMs / Math.max(1, deliveries), 2) };
}

/** `r2d2 deliver` once per message, 8 at once (xargs -P 8), in a clean environment as pipe(8) gives. */
function pipeDeliveries(personality: string, recipients: readonly string[], messageFile: string): DeliveryFigures {
  const script = `printf '%s\\n' ${recipients.map((r) => `'${r}'`).join(' ')} | xargs -P ${CONNECTIONS} -I{} sh -c 'exec env -i PATH=/usr/bin:/bin ${process.execPath} ${join(REPO, 'bin/r2d2')} deliver -p ${personality} --recipient {} < ${messageFile}'; times`;
  const started = performance.now();
  const out = execFileSync('bash', ['-c', script], { encoding: 'utf8' });
  const wallMs = performance.now() - started;
  // `times`: the shell's own user/sys, then its children's.
  const seconds = (text: string): number => {
    const m = /(\d+)m([\d.]+)s/.exec(text);
    return m === null ? NaN : Number(m[1]) * 60 + Number(m[2]);
  };
  const [user = '', sys = ''] = (out.trim().split('\n').pop() ?? '').split(' ');
  return figures(recipients.length, 0, wallMs, (seconds(user) + seconds(sys)) * 1000);
}

export interface DeliveryRowOptions {
  /** Interleaved runs of the two LMTP servers; each figure is the median (default 1). */
  readonly runs?: number;
  /** Measure `r2d2 deliver` through a pipe too (default true). */
  readonly pipe?: boolean;
  /** Run r2d2 under `node --cpu-prof`, writing profiles here (must be writable by user mail). */
  readonly profileDir?: string | undefined;
}

/** Each figure the median of its runs (deliveries and errors summed). */
function medianFigures(all: readonly DeliveryFigures[]): DeliveryFigures {
  const sum = (pick: (f: DeliveryFigures) => number): number => all.reduce((a, f) => a + pick(f), 0);
  return {
    deliveries: sum((f) => f.deliveries),
    errors: sum((f) => f.errors),
    deliveriesPerSec: round(median(all.map((f) => f.deliveriesPerSec)), 1),
    cpuMsPerDelivery: round(median(all.map((f) => f.cpuMsPerDelivery)), 2),
  };
}

export async function runDeliveryRow(say: (line: string) => void, quick: boolean, options: DeliveryRowOptions = {}): Promise<DeliveryRow> {
  const durationMs = quick ? 5000 : 15_000;
  const runs = Math.max(1, options.runs ?? 1);
  const root = mkdtempSync(join(tmpdir(), 'r2d2-deliverbench-'));
  chmodSync(root, 0o755);
  const cleanups: Array<() => Promise<void> | void> = [() => rmSync(root, { recursive: true, force: true })];
  try {
    const { uid, gid } = mailUser();
    const r2d2Root = join(root, 'r2d2');
    const dovecotRoot = join(root, 'dovecot');
    for (const d of [r2d2Root, dovecotRoot]) {
      mkdirSync(d, { mode: 0o755 });
      chownSync(d, uid, gid);
    }
    const db = await BenchDatabase.create();
    cleanups.push(() => db.drop());
    const users = Array.from({ length: USERS }, (_, i) => `d${String(i).padStart(3, '0')}@bench.example`);
    await db.addUsers(users.map((name) => ({ name, password: 'x', maildir: join(r2d2Root, name) })));
    const wire = message();
    const onWire = Buffer.concat([wire, Buffer.from('.\r\n')]);
    const messageFile = join(root, 'message.eml');
    writeFileSync(messageFile, wire.toString('latin1').replace(/\r\n/g, '\n'));

    const personality = join(root, 'personality');
    mkdirSync(personality);
    const [popPort, lmtpPort, dovecotPort] = [await freePort(), await freePort(), await freePort()];
    writeFileSync(
      join(personality, 'c11n'),
      `identity = server.pop3.r2d2-deliverbench
listen "pop3" { address = 127.0.0.1  port = ${popPort} }
uid = ${uid}
gid = ${gid}
maildir_root = "${r2d2Root}"
maildrop_query_format_string = "SELECT maildir FROM mailbox WHERE username = %u AND active = 1"
database "accounts" { host = ${DB.host}  port = ${DB.port}  user = ${DB.user}  password = "${DB.password}"  database = ${db.name}  pool_size = 10 }
deliver { recipient_query_format_string = "SELECT maildir, quota FROM mailbox WHERE username = %u AND active = 1" }
lmtp { address = 127.0.0.1  port = ${lmtpPort} }
log { destination = stdout  level = warn }
`,
    );
    chmodSync(personality, 0o755);

    const r2d2 = await R2d2Instance.start(personality, popPort, join(root, 'r2d2.log'), options.profileDir);
    cleanups.push(() => r2d2.stop());
    const dovecot = lmtpInstalled()
      ? await DovecotLmtp.start({ dir: join(root, 'dovecot-conf'), port: dovecotPort, database: db.name, r2d2Root, mailRoot: dovecotRoot, uid, gid })
      : undefined;
    if (dovecot !== undefined) cleanups.push(() => dovecot.stop());
    const measureLmtp = async (pid: number, port: number): Promise<DeliveryFigures> => {
      await runLmtpLoad({ port, connections: CONNECTIONS, recipients: users, wire: onWire, durationMs: WARM_UP_MS });
      const cpu0 = treeCpuMs(pid);
      const r = await runLmtpLoad({ port, connections: CONNECTIONS, recipients: users, wire: onWire, durationMs });
      if (r.errors > 0) say(`delivery errors: ${r.errorSamples.join('; ')}`);
      return figures(r.deliveries, r.errors, r.wallMs, treeCpuMs(pid) - cpu0);
    };
    // Interleaved, so that both servers see the same share of whatever else loads the machine.
    const r2d2Runs: DeliveryFigures[] = [];
    const dovecotRuns: DeliveryFigures[] = [];
    for (let run = 1; run <= runs; run++) {
      const mine = await measureLmtp(r2d2.pid, lmtpPort);
      r2d2Runs.push(mine);
      say(`r2d2 LMTP${runs > 1 ? ` (run ${run})` : ''}: ${mine.deliveriesPerSec} deliveries/s, ${mine.cpuMsPerDelivery} CPU ms/delivery (${mine.errors} errors)`);
      if (dovecot === undefined) continue;
      const theirs = await measureLmtp(dovecot.pid, dovecotPort);
      dovecotRuns.push(theirs);
      say(`Dovecot LMTP${runs > 1 ? ` (run ${run})` : ''}: ${theirs.deliveriesPerSec} deliveries/s, ${theirs.cpuMsPerDelivery} CPU ms/delivery (${theirs.errors} errors)`);
    }
    await r2d2.stop();
    await dovecot?.stop();
    const r2d2Lmtp = medianFigures(r2d2Runs);
    const dovecotLmtp: DeliveryRow['dovecotLmtp'] = dovecot === undefined ? { pending: 'dovecot-lmtpd is not installed' } : medianFigures(dovecotRuns);

    if (options.pipe === false) return { r2d2Lmtp, dovecotLmtp, r2d2Pipe: { pending: 'not measured (--no-pipe)' } };
    const pipeUsers = users.slice(0, quick ? 80 : USERS);
    pipeDeliveries(personality, pipeUsers.slice(0, 8), messageFile); // warm-up (page cache)
    const r2d2Pipe = pipeDeliveries(personality, pipeUsers, messageFile);
    say(`r2d2 deliver (pipe): ${r2d2Pipe.deliveriesPerSec} deliveries/s, ${r2d2Pipe.cpuMsPerDelivery} CPU ms/delivery`);
    return { r2d2Lmtp, dovecotLmtp, r2d2Pipe };
  } finally {
    for (const c of cleanups.reverse()) await c();
  }
}

/** The row as a markdown table with the issue's targets. */
export function deliveryTable(row: DeliveryRow): string {
  const d = row.dovecotLmtp;
  const cell = (f: DeliveryFigures | { readonly pending: string }): string => ('pending' in f ? `${f.pending} | |` : `${f.deliveriesPerSec} | ${f.cpuMsPerDelivery}`);
  const ratio = (a: number, b: number): string => (b > 0 ? String(round(a / b, 2)) : 'n/a');
  const lines = [
    `| delivery, ${CONNECTIONS} at once, 4 KB message | deliveries/s | CPU ms per delivery |`,
    '|---|---|---|',
    `| r2d2 LMTP | ${cell(row.r2d2Lmtp)} |`,
    `| Dovecot LMTP (mail_fsync = always) | ${cell(d)} |`,
    `| r2d2 deliver via a pipe (a process per message) | ${cell(row.r2d2Pipe)} |`,
  ];
  if (!('pending' in d)) {
    lines.push(
      '',
      `r2d2 LMTP / Dovecot LMTP: deliveries/s x${ratio(row.r2d2Lmtp.deliveriesPerSec, d.deliveriesPerSec)} (target >= 1), CPU per delivery x${ratio(row.r2d2Lmtp.cpuMsPerDelivery, d.cpuMsPerDelivery)} (target <= 0.5)`,
    );
  }
  return lines.join('\n');
}

/** `npm run bench:deliver [-- --quick] [--runs=N] [--no-pipe] [--cpu-prof=DIR]`: the delivery row alone. */
if (require.main === module) {
  const t0 = Date.now();
  const say = (line: string): void => void process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);
  if (spawnSync('id', ['mail']).status !== 0) throw new Error('no "mail" user');
  const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const options = { runs: Number(arg('runs') ?? 1), pipe: !process.argv.includes('--no-pipe'), profileDir: arg('cpu-prof') };
  runDeliveryRow(say, process.argv.includes('--quick'), options).then(
    (row) => process.stdout.write(`\n${deliveryTable(row)}\n`),
    (error: unknown) => {
      process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
