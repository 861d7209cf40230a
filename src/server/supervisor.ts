// The supervisor: the process `r2d2 serve` starts. It has the listening sockets bound (as root
// where a port is below 1024; see binder.ts), then runs the engine as the configured uid/gid and
// hands it a dup of a listening socket for each worker thread. It never accepts a connection.
// It forwards SIGHUP/SIGUSR1, turns SIGTERM into the engine's graceful stop, and restarts an
// engine that died (the sockets stay bound, so clients queue in the backlog meanwhile).
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/types';
import { OperatorError } from '../config/operator-error';
import { SignalLatch } from './signal-latch';
import { resolveCredentials, type Credentials } from './credentials';
import type { BinderMessage } from './binder';
import { restartDelay } from './backoff';
import type { FromSupervisor, ToSupervisor } from './ipc';
import { TlsMaterial } from './tls-material';
import { AUTH_HTTP_ENDPOINT, endpoints } from './endpoints';

const RESTART_BACKOFF_MS = [500, 1000, 5000, 15000] as const;

/** A reason not to start that the operator must fix in the personality. */
export class StartupError extends OperatorError {}

/**
 * Who sessions run as. Never root unless the personality says so (ServerKit's rule), whether
 * root comes from being started as root without `uid` or from a `uid` that is root (`0`, `root`).
 * Started as another user (the systemd unit's User=), sessions run as that user: a `uid` naming
 * someone else cannot be honoured without root and is refused here rather than at fork.
 */
export function sessionCredentials(config: Config): Credentials | undefined {
  let credentials: Credentials | undefined;
  if (config.uid !== undefined) {
    try {
      credentials = resolveCredentials(config.uid, config.gid);
    } catch (error) {
      throw new StartupError((error as Error).message);
    }
  }
  const startedAs = process.getuid?.();
  if ((credentials?.uid ?? startedAs) === 0 && !config.executesAsRoot) {
    throw new StartupError(
      config.uid === undefined
        ? 'refusing to run sessions as root: set uid and gid in c11n, or executes_as_root = true'
        : `refusing to run sessions as root: uid "${config.uid}" is root (uid 0); name another user, or set executes_as_root = true`,
    );
  }
  if (credentials === undefined || startedAs === undefined || startedAs === 0) return credentials;
  if (credentials.uid === startedAs && credentials.gid === process.getgid?.()) return undefined;
  throw new StartupError(
    `uid "${config.uid}"${config.gid === undefined ? '' : `, gid "${config.gid}"`}: r2d2 runs as uid ${startedAs}, not root, so its sessions cannot change user; ` +
      'drop uid and gid from c11n (sessions then run as this user), or start r2d2 as root',
  );
}

/**
 * The engine's whole environment: the locale, the time zone and Node's own settings, never the
 * supervisor's process.env. A `${DB_PASSWORD}` that c11n took from the environment would
 * otherwise sit in /proc/ENGINE_PID/environ, readable by every process of the session uid; the
 * engine gets its Config (password included) over IPC instead.
 */
const ENGINE_ENVIRONMENT = /^(?:PATH|LANG|LANGUAGE|LC_[A-Z_]+|TZ|NODE_ENV|NODE_OPTIONS|UV_THREADPOOL_SIZE|R2D2_TEST_HOOKS)$/;

export function engineEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name, value]) => value !== undefined && ENGINE_ENVIRONMENT.test(name)));
}

/** A raw listening handle received from the binder; the supervisor never closes it. */
interface RawHandle {
  readonly fd: number;
}

/** Binds every listener in a binder child (see binder.ts); resolves with raw handles and ports. */
async function bindListeners(config: Config): Promise<Map<string, { handle: RawHandle; port: number }>> {
  const requests = endpoints(config);
  const child = fork(join(__dirname, 'binder.js'), [JSON.stringify(requests)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: engineEnvironment(process.env),
  });
  const bound = new Map<string, { handle: RawHandle; port: number }>();
  const failures: string[] = [];
  child.on('message', (message: BinderMessage, handle: unknown) => {
    if (message.type === 'failed') failures.push(`listen "${message.name}": ${message.reason}`);
    else if (typeof handle === 'object' && handle !== null && typeof (handle as RawHandle).fd === 'number') {
      bound.set(message.name, { handle: handle as RawHandle, port: message.port });
    }
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  if (failures.length > 0) throw new StartupError(failures.join('; '));
  if (code !== 0 || bound.size !== requests.length) throw new StartupError('binding the listening sockets failed');
  return bound;
}

/**
 * Runs the supervisor until SIGTERM/SIGINT. `signals` has held SIGHUP/SIGTERM/SIGINT/SIGUSR1
 * since the CLI's first line, so none that arrives while the ports are bound or the engine
 * starts kills r2d2: each is handled here, or kept until it can be.
 */
export async function runSupervisor(
  config: Config,
  log: Logger,
  reloadConfig: () => Config,
  banner?: (port: number) => string,
  signals: SignalLatch = new SignalLatch(),
): Promise<number> {
  // The engine gets the certificates' and keys' contents, never their paths to open (tls-material.ts).
  const tlsMaterial = new TlsMaterial();
  let current = tlsMaterial.attach(config);
  let engine: ChildProcess | undefined;
  /** The engine has asked for a listening socket, so its own signal handlers are in place. */
  let engineListening = false;
  let stopping = false;
  let failures = 0;
  let finish: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (finish = resolve));

  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: shutting down`);
    if (engine === undefined) finish(0);
    else engine.kill('SIGTERM');
  };
  const reload = (): void => {
    try {
      current = tlsMaterial.attach(reloadConfig());
    } catch (error) {
      log.error({ reason: (error as Error).message }, 'SIGHUP: config not reloaded');
      return;
    }
    // Before the engine runs, the new Config is simply the one it starts with; IPC keeps order,
    // and the engine takes messages from its first line on, so one sent while it starts waits.
    engine?.send({ type: 'reload', config: current } satisfies FromSupervisor);
  };
  signals.attach((signal) => {
    if (signal === 'SIGTERM' || signal === 'SIGINT') stop(signal);
    else if (stopping) return;
    else if (signal === 'SIGHUP') reload();
    // Before its handlers exist, SIGUSR1 would start the engine's inspector: not forwarded then.
    else if (engine !== undefined && engineListening) engine.kill('SIGUSR1');
    else log.info('SIGUSR1: the engine is still starting');
  });

  const credentials = sessionCredentials(config);
  if (stopping) return done;
  const servers = await bindListeners(config);
  if (stopping) return done;
  for (const listener of config.listeners) {
    const port = servers.get(listener.name)?.port ?? listener.port;
    log.info({ listener: listener.name, tls: listener.tls }, `listening on ${listener.address}:${port}`);
    if (banner !== undefined && listener === config.listeners[0]) process.stdout.write(banner(port) + '\n');
  }
  const auth = config.authHttp;
  if (auth !== undefined) log.info({ listener: AUTH_HTTP_ENDPOINT }, `listening on ${auth.address}:${servers.get(AUTH_HTTP_ENDPOINT)?.port ?? auth.port}`);

  const spawnEngine = (): void => {
    const child = fork(join(__dirname, 'engine-main.js'), [], {
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
      env: engineEnvironment(process.env),
      ...(credentials ?? {}),
    });
    engine = child;
    engineListening = false;
    child.send({ type: 'start', config: current } satisfies FromSupervisor);
    const started = Date.now();
    child.on('message', (message: ToSupervisor) => {
      engineListening = true;
      const bound = servers.get(message.listener);
      if (message.type !== 'dup' || bound === undefined) return;
      // The raw handle travels as a dup of the listening fd (SCM_RIGHTS).
      child.send({ type: 'fd', listener: message.listener, id: message.id } satisfies FromSupervisor, bound.handle as never);
    });
    child.once('exit', (code, signal) => {
      engine = undefined;
      if (stopping) {
        finish(code ?? 0);
        return;
      }
      failures = Date.now() - started > 60_000 ? 1 : failures + 1;
      const delay = restartDelay(RESTART_BACKOFF_MS, failures);
      log.error({ code, signal }, `engine exited; restarting it in ${delay} ms`);
      setTimeout(() => {
        if (!stopping) spawnEngine();
      }, delay);
    });
  };
  spawnEngine();

  if (process.env['R2D2_TEST_HOOKS'] === '1') {
    // Tests only: SIGUSR2 ends the worker whose slot is in <personality>/kill-slot.
    process.on('SIGUSR2', () => {
      const slot = Number(readFileSync(join(config.personalityDir, 'kill-slot'), 'utf8').trim());
      engine?.send({ type: 'test-kill', slot } satisfies FromSupervisor);
    });
  }
  return done;
}
