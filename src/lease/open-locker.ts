// The maildrop locker a personality asks for (c11n maildrop_lock): lock files, or database
// leases. For the server (one per worker thread) and the maildir tools alike.
import type { Logger } from 'pino';
import type { MaildropLockConfig } from '../config/types';
import { LOCAL_LOCKER, type MaildropLocker } from '../maildrop/locker';
import { DatabaseLocker } from './database-locker';

export function openMaildropLocker(config: MaildropLockConfig, log?: Logger): MaildropLocker {
  if (config.backend === 'local') return LOCAL_LOCKER;
  return new DatabaseLocker({ database: config.database, leaseMs: config.leaseMs, table: config.table }, log);
}
