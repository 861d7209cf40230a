import { cpus } from 'node:os';
import { openAccounts } from '../accounts/open-accounts';
import { checkQueries } from '../accounts/query-check';
import { loadConfig } from '../config/load';
import { checkLeaseTable } from '../lease/lease-check';
import type { Config } from '../config/types';
import { openLog } from '../log/logger';
import { runSupervisor, sessionCredentials, StartupError } from '../server/supervisor';
import type { SignalLatch } from '../server/signal-latch';
import { TlsContexts } from '../server/tls-contexts';
import { TlsMaterial } from '../server/tls-material';
import { lmtpBindRequests } from '../server/lmtp-sockets';

export function readConfig(personalityDir: string): Config {
  return loadConfig(personalityDir, process.env, cpus().length);
}

/**
 * Everything `serve` would refuse, checked before a port is bound: certificates, the
 * accounts store's settings, who sessions run as, each configured query and the maildrop lease
 * table's statements (prepared on their databases). Throws with a message for the operator; resolves with warnings (a database that
 * cannot be reached now is no reason to refuse a start).
 */
export async function preflight(config: Config): Promise<readonly string[]> {
  checkTls(config);
  const credentials = sessionCredentials(config);
  try {
    lmtpBindRequests(config, credentials); // socket_user and socket_group must name a user and a group
  } catch (error) {
    throw new StartupError(`lmtp: ${(error as Error).message}`);
  }
  try {
    await openAccounts(config).close();
  } catch (error) {
    throw new StartupError(`database "${config.accountsDatabase.name}": ${(error as Error).message}`);
  }
  const queries = await checkQueries(config);
  const lease = await checkLeaseTable(config);
  const rejected = [...queries.rejected, ...lease.rejected];
  if (rejected.length > 0) throw new StartupError(rejected.join('\n'));
  return [...queries.warnings, ...lease.warnings];
}

/** Runs the server until SIGTERM/SIGINT; resolves with the exit code. */
export async function serve(config: Config, banner?: (port: number) => string, signals?: SignalLatch): Promise<number> {
  const warnings = await preflight(config);
  const logging = openLog({ identity: config.identity, log: config.log });
  for (const warning of warnings) logging.log.warn(warning);
  return runSupervisor(config, logging, () => readConfig(config.personalityDir), banner, signals);
}

/** Loads every listener's certificates as serve would: a bad or expired pair fails here too. */
export function checkTls(config: Config): void {
  for (const listener of new TlsMaterial().attach(config).listeners) {
    if (listener.tlsConfig !== undefined) new TlsContexts(listener.tlsConfig);
  }
}
