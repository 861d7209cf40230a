// How a `database` section (driver mysql) reaches MySQL/MariaDB: for its pools (mysql-pool.ts:
// logins, maildrop leases, deliver's recipient queries) and check-config's one-shot connections.
import type { ConnectionOptions } from 'mysql2/promise';
import type { DatabaseConfig } from '../config/types';

/**
 * mysql2 connection options from a database section, for its first server; a unix socket, when
 * set, wins over host/port. mysql-pool.ts sets host and port per server of `hosts`.
 */
export function mysqlConnectionOptions(db: DatabaseConfig): ConnectionOptions {
  return {
    user: db.user,
    password: db.password,
    database: db.database.length > 0 ? db.database : undefined,
    connectTimeout: db.connectTimeoutMs,
    supportBigNumbers: true,
    ...(db.socket !== undefined ? { socketPath: db.socket } : { host: db.host, port: db.port }),
  };
}
