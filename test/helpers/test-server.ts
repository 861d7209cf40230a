import { openAccounts } from '../../src/accounts/open-accounts';
import { parseConfigText } from '../../src/config/load';
import type { Config } from '../../src/config/types';
import type { Clock } from '../../src/pop3/clock';
import { openLog, openTransport, type LogHandle } from '../../src/log/logger';
import { startServer, type RunningServer } from '../../src/server/server';
import { MAILBOX_QUERY, MARIADB } from './mariadb';

export interface TestServerOptions {
  readonly database: string;
  readonly maildirRoot?: string;
  readonly query?: string;
  /** Extra c11n text appended at top level. */
  readonly extra?: string;
  readonly idleTimeout?: number;
  readonly maxBadCommands?: number;
  readonly maxConnections?: number;
  readonly dbPort?: number;
  /** Seconds the accounts query may take before the login gets [SYS/TEMP]. */
  readonly queryTimeout?: number;
  /** Extra keys for the limits section; the default turns the failed-login delay off. */
  readonly limits?: string;
  /** c11n listen sections replacing the default plain one (named "pop3"). */
  readonly listeners?: string;
  /** A c11n log section replacing the default; its destination (syslog, udp) is used for real, lines are still captured. */
  readonly log?: string;
  /** The sessions' clock (timers, LOGIN-DELAY and EXPIRE times); the system's by default. */
  readonly clock?: Clock;
}

export interface TestServer {
  readonly port: number;
  /** The bound port of a listener by its c11n title. */
  portOf(listener: string): number;
  readonly config: Config;
  readonly server: RunningServer;
  /** The server's logger, transport and loss counter. */
  readonly logging: LogHandle;
  /** Every log line the server wrote, as an operator would read it. */
  readonly lines: string[];
  /** Resolves with the first log line matching, waiting for it if needed. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  close(): Promise<void>;
}

export function testConfigText(options: TestServerOptions): string {
  return `
identity = "server.pop3.r2d2"
idle_timeout = ${options.idleTimeout ?? 600}
${options.maildirRoot !== undefined ? `maildir_root = "${options.maildirRoot}"` : ''}
maildrop_query_format_string = "${(options.query ?? MAILBOX_QUERY).replace(/"/g, '\\"')}"
${options.listeners ?? 'listen "pop3" { address = "127.0.0.1"  port = 0  tls = none }'}
database "accounts" {
  host = "${MARIADB.host}"
  port = ${options.dbPort ?? MARIADB.port}
  user = "${MARIADB.user}"
  password = "${MARIADB.password}"
  database = "${options.database}"
  pool_size = 4
  connect_timeout = 10
  query_timeout = ${options.queryTimeout ?? 10}
}
limits {
  max_bad_commands = ${options.maxBadCommands ?? 10}  max_connections = ${options.maxConnections ?? 1000}
  ${options.limits ?? 'auth_failure_delay_ms = 0'}
}
${options.log ?? 'log { destination = stdout  level = debug }'}
${options.extra ?? ''}
`;
}

/** A real r2d2 on a free loopback port with a real MariaDB account store. */
export async function startTestServer(options: TestServerOptions): Promise<TestServer> {
  const config = parseConfigText(testConfigText(options), process.cwd(), {}, 2);
  const lines: string[] = [];
  const watchers: Array<() => void> = [];
  const capture = (line: string): void => {
    lines.push(line);
    for (const w of watchers.splice(0)) w();
  };
  const pid = 4242;
  const prefix = `${config.identity}[${pid}]: `;
  const real = options.log === undefined ? undefined : openTransport({ identity: config.identity, log: config.log, pid }, pid);
  const logging = openLog({
    identity: config.identity,
    log: config.log,
    pid,
    sink: capture,
    ...(real === undefined
      ? {}
      : {
          transport: {
            losses: real.losses,
            send: (message: string, level: number) => {
              capture(prefix + message);
              real.send(message, level);
            },
            close: () => real.close(),
          },
        }),
  });
  const log = logging.log;
  const server = await startServer({ config, accounts: openAccounts(config, log), log, ...(options.clock === undefined ? {} : { clock: options.clock }) });
  const port = server.listeners[0]?.port ?? 0;
  const waitForLine = async (pattern: RegExp, timeoutMs = 5000): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = lines.find((l) => pattern.test(l));
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no log line matched ${pattern}; lines:\n${lines.join('\n')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        watchers.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  };
  const portOf = (name: string): number => {
    const found = server.listeners.find((l) => l.name === name);
    if (found === undefined) throw new Error(`no listener ${name}`);
    return found.port;
  };
  const close = async (): Promise<void> => {
    await server.close();
    await logging.close();
  };
  return { port, portOf, config, server, logging, lines, waitForLine, close };
}
