// `database "NAME" { hosts = { "db1:3306", "db2" } }`: the servers a mysql database section
// tries in order (src/accounts/mysql-pool.ts). `host`/`port` remain the one-server spelling.
import { C11nError } from './errors';
import { here, where } from './schema';
import type { DatabaseHost } from './types';

const MYSQL_PORT = 3306;

/** `host`, `host:port`, `[v6]` or `[v6]:port`; undefined when it is none of those. */
export function parseDatabaseHost(text: string): DatabaseHost | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:\[\]]+))(?::([0-9]{1,5}))?$/.exec(text);
  const host = match?.[1] ?? match?.[2];
  const port = match?.[3] === undefined ? MYSQL_PORT : Number(match[3]);
  return host === undefined || !(port >= 1 && port <= 65535) ? undefined : { host, port };
}

export const checkDatabaseHost = (text: string): string | undefined =>
  parseDatabaseHost(text) === undefined ? `must be "host", "host:port" or "[ipv6]:port" (port 1 to 65535), got ${JSON.stringify(text)}` : undefined;

interface HostKeys {
  readonly host: string;
  readonly port: number;
  readonly socket: string | undefined;
  readonly hosts: readonly string[] | undefined;
}

/** The servers of a database section: `hosts`, else the one `host`/`port`. */
export function databaseHosts(value: HostKeys & object, title: string): readonly DatabaseHost[] {
  if (value.hosts === undefined) return [{ host: value.host, port: value.port }];
  for (const key of ['host', 'port', 'socket'] as const) {
    if (where(value, key) !== undefined) {
      throw C11nError.at(here(value, key), `database "${title}" sets both "hosts" and "${key}": list every server in hosts ("db1:3306", ...) and drop ${key}`);
    }
  }
  if (value.hosts.length === 0) throw C11nError.at(here(value, 'hosts'), `database "${title}": "hosts" must name at least one server`);
  const seen = new Set<string>();
  return value.hosts.map((text) => {
    const parsed = parseDatabaseHost(text);
    // checkDatabaseHost already refused anything unparseable.
    if (parsed === undefined) throw C11nError.at(here(value, 'hosts'), `database "${title}": ${checkDatabaseHost(text) ?? 'bad host'}`);
    const key = `${parsed.host}:${parsed.port}`;
    if (seen.has(key)) throw C11nError.at(here(value, 'hosts'), `database "${title}": "hosts" names ${key} twice`);
    seen.add(key);
    return parsed;
  });
}
