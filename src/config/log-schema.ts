// The c11n `log { }` section (syslog, UDP collector or stdout) and how it becomes a LogConfig.
import { C11nError } from './errors';
import { absolutePath, bool, here, oneOf, section, str } from './schema';
import { FACILITY_NAMES } from './syslog-facility';
import type { LogConfig } from './types';

export function checkHostPort(text: string): string | undefined {
  return parseHostPort(text) === undefined ? `must be "host:port" (or "[ipv6]:port") with a port from 1 to 65535, got ${JSON.stringify(text)}` : undefined;
}

function parseHostPort(text: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:\[\]]+)):([0-9]{1,5})$/.exec(text);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  return host === undefined || !(port >= 1 && port <= 65535) ? undefined : { host, port };
}

export const logSchema = section({
  // Default stdout; `bypass_libc_syslog = true` makes it udp.
  destination: oneOf(['stdout', 'stderr', 'syslog', 'udp']),
  level: oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
  format: oneOf(['rfc3164', 'rfc5424']).default('rfc3164'),
  facility: oneOf(FACILITY_NAMES).default('mail'),
  syslog_socket: str().check(absolutePath).default('/dev/log'),
  udp_address: str().check(checkHostPort),
  // ServerKit's names for the same thing: bypass_libc_syslog = true + libc_syslog_bypass_address.
  libc_syslog_bypass_address: str().check(checkHostPort),
  bypass_libc_syslog: bool(),
});

type LogDoc = ReturnType<(typeof logSchema)['body']>;

export function toLog(log: LogDoc): LogConfig {
  if (log.udp_address !== undefined && log.libc_syslog_bypass_address !== undefined) {
    throw C11nError.at(here(log, 'libc_syslog_bypass_address'), '"udp_address" and "libc_syslog_bypass_address" are the same setting: keep one');
  }
  const addressKey = log.udp_address !== undefined ? 'udp_address' : 'libc_syslog_bypass_address';
  const address = log.udp_address ?? log.libc_syslog_bypass_address;
  if (log.bypass_libc_syslog === true && log.destination !== undefined && log.destination !== 'udp') {
    throw C11nError.at(here(log, 'bypass_libc_syslog'), `"bypass_libc_syslog = true" sends to a UDP collector, but destination = ${log.destination}`);
  }
  const destination = log.destination ?? (log.bypass_libc_syslog === true ? 'udp' : 'stdout');
  if (destination === 'udp' && address === undefined) {
    throw C11nError.at(here(log, log.destination === undefined ? 'bypass_libc_syslog' : 'destination'), 'log destination udp needs udp_address = "host:port"');
  }
  // An address with another destination would be silently unused; ServerKit's bypass_libc_syslog = false keeps it parked.
  if (destination !== 'udp' && address !== undefined && log.bypass_libc_syslog !== false) {
    throw C11nError.at(here(log, addressKey), `"${addressKey}" is for destination = udp (destination is ${destination})`);
  }
  return {
    destination,
    level: log.level,
    format: log.format,
    facility: log.facility,
    syslogSocket: log.syslog_socket,
    udpAddress: destination === 'udp' && address !== undefined ? parseHostPort(address) : undefined,
  };
}
