import { cpus } from 'node:os';
import { openAccounts } from '../accounts/open-accounts';
import { loadConfig } from '../config/load';
import type { Config } from '../config/types';
import { createLogger } from '../log/logger';
import { runSupervisor, sessionCredentials, StartupError } from '../server/supervisor';
import { TlsContexts } from '../server/tls-contexts';
import { TlsMaterial } from '../server/tls-material';

export function readConfig(personalityDir: string): Config {
  return loadConfig(personalityDir, process.env, cpus().length);
}

/**
 * Everything `serve` would refuse, checked before a port is bound: certificates, the
 * accounts store's settings, who sessions run as. Throws with a message for the operator.
 */
export async function preflight(config: Config): Promise<void> {
  checkTls(config);
  sessionCredentials(config);
  try {
    await openAccounts(config).close();
  } catch (error) {
    throw new StartupError(`database "${config.accountsDatabase.name}": ${(error as Error).message}`);
  }
}

/** Runs the server until SIGTERM/SIGINT; resolves with the exit code. */
export async function serve(config: Config, banner?: (port: number) => string): Promise<number> {
  await preflight(config);
  const log = createLogger({ identity: config.identity, log: config.log });
  return runSupervisor(config, log, () => readConfig(config.personalityDir), banner);
}

/** Loads every listener's certificates as serve would: a bad or expired pair fails here too. */
export function checkTls(config: Config): void {
  for (const listener of new TlsMaterial().attach(config).listeners) {
    if (listener.tlsConfig !== undefined) new TlsContexts(listener.tlsConfig);
  }
}

