import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Test } from 'tap';
import { MAILBOX_QUERY, MARIADB } from './mariadb';
import { PrivateDaemon } from './private-daemon';

const R2D2 = join(__dirname, '../../../bin/r2d2');
const STARTUP_TIMEOUT_MS = 60_000;

export interface HowToStart {
  /** A command line to start it under (`setpriv --reuid=nobody ...`): the personality is then readable by every user. */
  readonly wrap?: readonly string[];
  /** The r2d2 to run (an installed /usr/bin/r2d2); this checkout's by default. */
  readonly program?: string;
}

/** A real `r2d2 serve` process (supervisor, engine, worker threads) on a personality of its own. */
export class SpawnedServer {
  private constructor(private readonly daemon: PrivateDaemon) {}

  static async start(t: Test, c11n: string, env: NodeJS.ProcessEnv = {}, how: HowToStart = {}): Promise<SpawnedServer> {
    // Without tap's NODE_OPTIONS: its loaders would follow the server into its processes.
    const { NODE_OPTIONS: _ignored, ...inherited } = process.env;
    const daemon = PrivateDaemon.start(
      t,
      'serve',
      (dir) => {
        writeFileSync(join(dir, 'c11n'), c11n);
        if (how.wrap !== undefined) chmodSync(dir, 0o755);
        return [...(how.wrap ?? []), how.program ?? R2D2, 'serve', '-p', dir];
      },
      { env: { ...inherited, R2D2_TEST_HOOKS: '1', ...env }, stopSignal: 'SIGKILL' },
    );
    const server = new SpawnedServer(daemon);
    // Generous: on a 2-core CI machine running two test files at once, a start has once taken
    // over 15 s (three processes, two worker threads, every module loaded cold).
    await server.waitFor(/engine ready/, STARTUP_TIMEOUT_MS);
    return server;
  }

  /** The personality folder (c11n in it). */
  get dir(): string {
    return this.daemon.dir;
  }

  get child(): ChildProcess {
    return this.daemon.child;
  }

  get exited(): Promise<number | null> {
    return this.daemon.exited;
  }

  get lines(): string[] {
    return this.daemon.output.split('\n');
  }

  get text(): string {
    return this.daemon.output;
  }

  port(listener = 'pop3'): number {
    const m = new RegExp(`listening on [^ ]+:(\\d+) listener="${listener}"`).exec(this.daemon.output);
    if (m === null) throw new Error(`no port for ${listener} in:\n${this.daemon.output}`);
    return Number(m[1]);
  }

  /** The engine's pid, from its log lines. */
  enginePid(): number {
    const m = /\[(\d+)\]: engine ready/.exec(this.daemon.output);
    if (m === null) throw new Error('engine not ready');
    return Number(m[1]);
  }

  async waitFor(pattern: RegExp, timeoutMs = 15000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = pattern.exec(this.daemon.output);
      if (m !== null) return m;
      if (Date.now() > deadline || this.daemon.child.exitCode !== null) throw new Error(`not seen: ${pattern}\n${this.daemon.output}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  count(pattern: RegExp): number {
    return this.lines.filter((l) => pattern.test(l)).length;
  }
}

/** A c11n for a spawned server on MariaDB. */
export function spawnedConfig(database: string, maildirRoot: string, extra = '', threads = 2): string {
  return spawnedConfigOf({ maildirRoot, accounts: accountsOn(database, 'pool_size = 4'), extra, threads });
}

export interface SpawnedConfigParts {
  readonly maildirRoot: string;
  /** The inside of the `database "accounts"` section. */
  readonly accounts: string;
  /** More c11n; `uid =` in it drops executes_as_root, `limits {` the default limits. */
  readonly extra?: string;
  readonly threads?: number;
  readonly query?: string;
}

/** A c11n for a spawned server: as root, a pop3 listener on port 0, no delay after a failed login. */
export function spawnedConfigOf(o: SpawnedConfigParts): string {
  const extra = o.extra ?? '';
  return `
${extra.includes('uid =') ? '' : 'executes_as_root = yes'}
threads = ${o.threads ?? 2}
maildir_root = "${o.maildirRoot}"
maildrop_query_format_string = "${o.query ?? MAILBOX_QUERY}"
listen "pop3" { address = "127.0.0.1"  port = 0 }
database "accounts" {
  ${o.accounts}
}
${extra.includes('limits {') ? '' : 'limits { auth_failure_delay_ms = 0 }'}
${extra}
`;
}

/** The inside of a database section for the test MariaDB, as its admin, on `database`; `more` keys after. */
export function accountsOn(database: string, more: string): string {
  return `host = "${MARIADB.host}"  port = ${MARIADB.port}  user = "${MARIADB.user}"  password = "${MARIADB.password}"
  database = "${database}"  ${more}`;
}
