// r2d2 as an operator runs it: the compiled CLI (`node bin/r2d2 serve -p <personality>`)
// with a generated personality; its log (level info, as in production) goes to a file.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DB, R2D2_QUERY } from './database';
import type { Certificate } from './tls';
import { stopProcess, waitForGreeting } from './util';

/** The repository root (dist/bench/setup -> ../../..). */
export const REPO = resolve(__dirname, '../../..');

export interface R2d2Options {
  readonly dir: string;
  readonly port: number;
  readonly stlsPort: number;
  readonly tlsPort: number;
  readonly tls: Certificate | undefined;
  readonly database: string;
  readonly mailRoot: string;
  /** Sessions run as this user and group (the maildirs' owner), as Dovecot's do. */
  readonly uid: number;
  readonly gid: number;
  /** With a `metrics` section on this port (the metrics-cost measurement); none by default. */
  readonly metricsPort?: number;
  /** The maildrop query; r2d2's production one (SHA2 in SQL) by default. */
  readonly query?: string;
}

/** `perAddress`: lift the per-client-address connection cap (every bench client is 127.0.0.1). */
export function personality(o: R2d2Options, perAddress = true): string {
  const tls = (name: string, port: number, mode: string): string =>
    o.tls === undefined
      ? ''
      : `listen "${name}" {\n  address = 127.0.0.1\n  port = ${port}\n  tls = ${mode}\n  certificate = "${o.tls.cert}"\n  private_key = "${o.tls.key}"\n}\n`;
  return `# r2d2 bench: generated personality (threads: the default, one per core).
identity = server.pop3.r2d2-bench
listen "pop3" {
  address = 127.0.0.1
  port = ${o.port}
  tls = none
}
${tls('pop3-stls', o.stlsPort, 'stls')}${tls('pop3s', o.tlsPort, 'implicit')}uid = ${o.uid}
gid = ${o.gid}
idle_timeout = 600
maildir_root = "${o.mailRoot}"
maildrop_query_format_string = "${o.query ?? R2D2_QUERY}"
database "accounts" {
  driver = mysql
  host = ${DB.host}
  port = ${DB.port}
  user = ${DB.user}
  password = "${DB.password}"
  database = ${o.database}
  pool_size = 10
}
limits {
  max_connections = 20000
${perAddress ? '  max_connections_per_address = 20000\n' : ''}}
log {
  destination = stdout
  level = info
}
${o.metricsPort === undefined ? '' : `metrics {
  address = 127.0.0.1
  port = ${o.metricsPort}
}
`}`;
}

/**
 * Writes the personality: the first variant this r2d2's check-config accepts, so the bench also
 * runs against versions without TLS listeners (its TLS rows then read "pending TLS") or without
 * the per-address connection cap.
 */
export function writePersonality(o: R2d2Options): { dir: string; tls: boolean; reason: string } {
  const dir = join(o.dir, 'personality');
  mkdirSync(dir, { recursive: true });
  const check = (): { ok: boolean; out: string } => {
    const r = spawnSync(process.execPath, [join(REPO, 'bin/r2d2'), 'check-config', '-p', dir], { encoding: 'utf8' });
    return { ok: r.status === 0, out: (r.stderr + r.stdout).trim() };
  };
  const tlsVariants = o.tls === undefined ? [false] : [true, false];
  let tlsRefusal = o.tls === undefined ? 'no certificate' : '';
  let last = '';
  for (const tls of tlsVariants) {
    for (const perAddress of [true, false]) {
      writeFileSync(join(dir, 'c11n'), personality(tls ? o : { ...o, tls: undefined }, perAddress));
      const result = check();
      if (result.ok) return { dir, tls, reason: tlsRefusal };
      last = result.out;
      if (tls && tlsRefusal === '') tlsRefusal = result.out.split('\n')[0] ?? '';
    }
  }
  throw new Error(`r2d2 check-config rejects the bench personality: ${last}`);
}

export class R2d2Instance {
  private constructor(
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {}

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /**
   * `profileDir`: run under `node --cpu-prof` (processes r2d2 forks and its worker threads
   * inherit the flag: each writes a profile there when it exits).
   */
  static async start(personalityDir: string, port: number, logFile: string, profileDir?: string): Promise<R2d2Instance> {
    const out = openSync(logFile, 'a');
    const flags = profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];
    const child = spawn(process.execPath, [...flags, join(REPO, 'bin/r2d2'), 'serve', '-p', personalityDir], { stdio: ['ignore', out, out], cwd: REPO });
    closeSync(out);
    const instance = new R2d2Instance(child, logFile);
    try {
      await waitForGreeting(port, 20_000, child);
    } catch (error) {
      await instance.stop();
      throw new Error(`r2d2 did not start (see ${logFile}): ${(error as Error).message}`);
    }
    return instance;
  }

  async stop(): Promise<void> {
    await stopProcess(this.child, 15_000);
  }
}
