// `check-config` and `serve` prepare the lease statements on the lease table's database (like
// the configured queries: accounts/query-check.ts), so a missing table or a missing grant fails
// the start with the database's own words; a database that cannot be reached is a warning.
import { connectToFirstServer, serverNames, type CheckConnection } from '../accounts/mysql-connect';
import { isConnectionError, withTimeout, type QueryCheck } from '../accounts/query-check';
import type { Config } from '../config/types';
import { leaseStatements } from './lease-sql';

export async function checkLeaseTable(config: Config): Promise<QueryCheck> {
  const lock = config.maildropLock;
  if (lock.backend !== 'database') return { rejected: [], warnings: [] };
  const db = lock.database;
  let opened: CheckConnection;
  try {
    opened = await connectToFirstServer(db);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { rejected: [], warnings: [`database "${db.name}" (${serverNames(db)}) cannot be reached: ${reason}; not checked: maildrop_lock table ${lock.table}`] };
  }
  const { connection, server } = opened;
  const warnings = opened.skipped.map((skipped) => `database "${db.name}": server ${skipped}; checked on ${server}`);
  const rejected: string[] = [];
  try {
    for (const sql of Object.values(leaseStatements(lock.table))) {
      const outcome = await withTimeout(connection.prepare(sql), db.queryTimeoutMs);
      if (outcome.kind === 'ok') {
        outcome.value.close();
        continue;
      }
      if (outcome.kind === 'timeout' || isConnectionError(outcome.error)) {
        warnings.push(`database "${db.name}" (${server}) did not answer; not checked: maildrop_lock table ${lock.table}`);
        break;
      }
      const reason = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
      rejected.push(`maildrop_lock: database "${db.name}" rejects the lease statements on ${lock.table}: ${reason} (the table and its grants: personality/maildrop-lock.sql)`);
      break;
    }
  } finally {
    connection.destroy();
  }
  return { rejected, warnings };
}
