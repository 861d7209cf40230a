// The recipient query's database for a long-running delivery service (the LMTP listener): a
// pool that reconnects by itself, with the section's query timeout, where `r2d2 deliver` opens
// one connection per message (recipient.ts openQueryRunner). MySQL goes through the accounts'
// ordered pool (accounts/mysql-pool.ts): the section's servers in order, one that fails set
// aside, and mysql2's callback API (its promise wrapper captured a stack trace per lookup).
import type { Logger } from 'pino';
import type { DatabaseConfig } from '../config/types';
import type { RunQuery } from './recipient';

export interface RecipientPool {
  readonly run: RunQuery;
  close(): Promise<void>;
}

/** A pool of at most `size` connections to `db` (sqlite: one read-only handle, opened on first use). */
export async function openRecipientPool(db: DatabaseConfig, size: number, log?: Logger): Promise<RecipientPool> {
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
  const { openMysqlPool } = await import('../accounts/mysql-pool');
  const pool = openMysqlPool(db, { connectionLimit: size, log });
  return {
    run: async (sql, params) => {
      const rows = await pool.run({ sql, params, timeoutMs: db.queryTimeoutMs, retry: true });
      if (!Array.isArray(rows)) throw new Error('the query is not a SELECT');
      return rows;
    },
    close: () => pool.end(),
  };
}
