// How a `database` section (driver mysql) reaches MySQL/MariaDB: for the login pool
// (accounts/mysql.ts) and for deliver's one-shot recipient queries (deliver/recipient.ts).
import type { ConnectionOptions } from 'mysql2/promise';
import type { DatabaseConfig } from '../config/types';

/** mysql2 connection options from a database section; a unix socket, when set, wins over host/port. */
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
