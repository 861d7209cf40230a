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
import { resolveCredentials, type Credentials } from './credentials';
import type { BinderMessage } from './binder';
import { restartDelay } from './backoff';
import type { FromSupervisor, ToSupervisor } from './ipc';
import { TlsMaterial } from './tls-material';

const RESTART_BACKOFF_MS = [500, 1000, 5000, 15000] as const;

/** A reason not to start that the operator must fix in the personality. */
export class StartupError extends OperatorError {}

/** Sessions must not run as root unless the personality says so (ServerKit's rule). */
export function sessionCredentials(config: Config): Credentials | undefined {
  if (config.uid !== undefined) {
    try {
      return resolveCredentials(config.uid, config.gid);
    } catch (error) {
      throw new StartupError((error as Error).message);
    }
  }
  if (process.getuid?.() === 0 && !config.executesAsRoot) {
    throw new StartupError('refusing to run sessions as root: set uid and gid in c11n, or executes_as_root = true');
  }
  return undefined;
}

/** A raw listening handle received from the binder; the supervisor never closes it. */
interface RawHandle {
  readonly fd: number;
}

/** Binds every listener in a binder child (see binder.ts); resolves with raw handles and ports. */
async function bindListeners(config: Config): Promise<Map<string, { handle: RawHandle; port: number }>> {
  const requests = config.listeners.map((l) => ({ name: l.name, address: l.address, port: l.port }));
  const child = fork(join(__dirname, 'binder.js'), [JSON.stringify(requests)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
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
  if (code !== 0 || bound.size !== config.listeners.length) throw new StartupError('binding the listening sockets failed');
  return bound;
}

export async function runSupervisor(config: Config, log: Logger, reloadConfig: () => Config, banner?: (port: number) => string): Promise<number> {
  // The engine gets the certificates' and keys' contents, never their paths to open (tls-material.ts).
  const tlsMaterial = new TlsMaterial();
  let current = tlsMaterial.attach(config);
  const credentials = sessionCredentials(config);
  const servers = await bindListeners(config);
  for (const listener of config.listeners) {
    const port = servers.get(listener.name)?.port ?? listener.port;
    log.info({ listener: listener.name, tls: listener.tls }, `listening on ${listener.address}:${port}`);
    if (banner !== undefined && listener === config.listeners[0]) process.stdout.write(banner(port) + '\n');
  }

  let engine: ChildProcess | undefined;
  let stopping = false;
  let failures = 0;
  let finish: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (finish = resolve));

  const spawnEngine = (): void => {
    const child = fork(join(__dirname, 'engine-main.js'), [], {
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
      ...(credentials ?? {}),
    });
    engine = child;
    child.send({ type: 'start', config: current } satisfies FromSupervisor);
    const started = Date.now();
    child.on('message', (message: ToSupervisor) => {
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
      setTimeout(spawnEngine, delay);
    });
  };
  spawnEngine();

  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: shutting down`);
    if (engine === undefined) finish(0);
    else engine.kill('SIGTERM');
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  process.on('SIGUSR1', () => engine?.kill('SIGUSR1'));
  process.on('SIGHUP', () => {
    try {
      current = tlsMaterial.attach(reloadConfig());
    } catch (error) {
      log.error({ reason: (error as Error).message }, 'SIGHUP: config not reloaded');
      return;
    }
    engine?.send({ type: 'reload', config: current } satisfies FromSupervisor);
  });
  if (process.env['R2D2_TEST_HOOKS'] === '1') {
    // Tests only: SIGUSR2 ends the worker whose slot is in <personality>/kill-slot.
    process.on('SIGUSR2', () => {
      const slot = Number(readFileSync(join(config.personalityDir, 'kill-slot'), 'utf8').trim());
      engine?.send({ type: 'test-kill', slot } satisfies FromSupervisor);
    });
  }
  return done;
}
