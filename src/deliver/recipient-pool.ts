// The recipient query's database for a long-running delivery service (the LMTP listener): a
// pool that reconnects by itself, with the section's query timeout, where `r2d2 deliver` opens
// one connection per message (recipient.ts openQueryRunner).
import type { DatabaseConfig } from '../config/types';
import { mysqlConnectionOptions } from '../accounts/mysql-options';
import type { RunQuery } from './recipient';

export interface RecipientPool {
  readonly run: RunQuery;
  close(): Promise<void>;
}

/** A pool of at most `size` connections to `db` (sqlite: one read-only handle, opened on first use). */
export async function openRecipientPool(db: DatabaseConfig, size: number): Promise<RecipientPool> {
  if (db.driver === 'sqlite') {
    const { default: Database } = await import('better-sqlite3');
    const file = db.file;
    if (file === undefined) throw new Error(`database "${db.name}": sqlite needs a file`);
    let handle: InstanceType<typeof Database> | undefined;
    return {
      run: async (sql, params) => {
        handle ??= new Database(file, { readonly: true, fileMustExist: true });
        return handle.prepare(sql).all(...params);
      },
      close: async () => {
        handle?.close();
      },
    };
  }
  const { createPool } = await import('mysql2/promise');
  const pool = createPool({ ...mysqlConnectionOptions(db), connectionLimit: size, waitForConnections: true, queueLimit: 0, enableKeepAlive: true });
  return {
    run: async (sql, params) => {
      const [rows] = await pool.execute({ sql, timeout: db.queryTimeoutMs }, [...params]);
      if (!Array.isArray(rows)) throw new Error('the query is not a SELECT');
      return rows;
    },
    close: () => pool.end(),
  };
}
