// One connection to a `database` section for a check (check-config, `serve`'s preflight): to
// its first server that accepts one, trying each of `hosts` in order.
import { createConnection, type Connection } from 'mysql2/promise';
import type { DatabaseConfig } from '../config/types';
import { mysqlConnectionOptions } from './mysql-options';

export interface CheckConnection {
  readonly connection: Connection;
  /** `host:port` (or the socket) of the server that answered. */
  readonly server: string;
  /** Servers tried before it, with why they failed. */
  readonly skipped: readonly string[];
}

/** Connects to the first server that answers; throws an Error naming every server's failure when none does. */
export async function connectToFirstServer(db: DatabaseConfig): Promise<CheckConnection> {
  const base = mysqlConnectionOptions(db);
  const servers =
    db.socket !== undefined
      ? [{ name: db.socket, options: base }]
      : db.hosts.map((h) => ({ name: `${h.host}:${h.port}`, options: { ...base, host: h.host, port: h.port } }));
  const failures: { name: string; reason: string }[] = [];
  for (const server of servers) {
    try {
      return { connection: await createConnection(server.options), server: server.name, skipped: failures.map((f) => `${f.name}: ${f.reason}`) };
    } catch (error) {
      failures.push({ name: server.name, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  // One server: its own words, as before there could be several.
  const [only] = failures;
  throw new Error(failures.length === 1 && only !== undefined ? only.reason : failures.map((f) => `${f.name}: ${f.reason}`).join('; '));
}

/** `host:port, host:port` (or the socket): the servers of a database section, for messages. */
export function serverNames(db: DatabaseConfig): string {
  return db.socket ?? db.hosts.map((h) => `${h.host}:${h.port}`).join(', ');
}
