import { cpus } from 'node:os';
import { openAccounts } from '../accounts/open-accounts';
import { loadConfig } from '../config/load';
import type { Config } from '../config/types';
import { createLogger } from '../log/logger';
import { startServer } from '../server/server';
import { TlsContexts } from '../server/tls-contexts';

export function readConfig(personalityDir: string): Config {
  return loadConfig(personalityDir, process.env, cpus().length);
}

/** Runs the server until SIGTERM/SIGINT; resolves with the exit code. */
export async function serve(config: Config, banner?: (port: number) => string): Promise<number> {
  const log = createLogger({ identity: config.identity, log: config.log });
  const accounts = openAccounts(config);
  const server = await startServer({ config, accounts, log, implementation: `r2d2 ${version()}` });
  const first = server.listeners[0];
  if (banner !== undefined && first !== undefined) process.stdout.write(banner(first.port) + '\n');
  return new Promise((resolve) => {
    const stop = (signal: string): void => {
      log.info(`${signal}: shutting down`);
      server.close().then(
        () => resolve(0),
        (error: unknown) => {
          log.error({ err: error }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => {
      // Re-read the personality; what can change without dropping sessions is applied.
      try {
        server.reloadTls(readConfig(config.personalityDir));
      } catch (error) {
        log.error({ reason: (error as Error).message }, 'SIGHUP: config not reloaded');
      }
    });
  });
}

/** Loads every listener's certificates as serve would: a bad or expired pair fails here too. */
export function checkTls(config: Config): void {
  for (const listener of config.listeners) {
    if (listener.tlsConfig !== undefined) new TlsContexts(listener.tlsConfig);
  }
}

export function version(): string {
  // package.json is two levels above dist/src/cli.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pkg = require('../../../package.json') as { version: string };
  return pkg.version;
}
