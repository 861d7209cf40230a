// The maildrop locker of a maildir tool run: the personality's (`-p DIR`, else
// $SERVER_PERSONALITY_PATH), so that a tool takes database leases where the servers do; lock
// files when no personality is named.
import { cpus } from 'node:os';
import { loadConfig } from '../config/load';
import { openMaildropLocker } from '../lease/open-locker';
import { LOCAL_LOCKER, type MaildropLocker } from '../maildrop/locker';

export function toolLocker(personality: string | undefined): MaildropLocker {
  const dir = personality ?? process.env['SERVER_PERSONALITY_PATH'];
  if (dir === undefined || dir.length === 0) return LOCAL_LOCKER;
  return openMaildropLocker(loadConfig(dir, process.env, cpus().length).maildropLock);
}
