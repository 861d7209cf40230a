// Who holds a maildrop lock: the line a lock file holds, and this process's own identity.
import { readFile, readlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { errnoCode } from './util';

export interface Holder { pid: number; startTime: string; threadId: number; host: string; nonce: string; scope: string | undefined }

export function parse(content: string): Holder | undefined {
  const f = content.trim().split(' ');
  if (f.length !== 5 && f.length !== 6) return undefined;
  const [pid, startTime, thread, host, nonce, scope] = f;
  if (!/^[1-9]\d{0,9}$/.test(pid ?? '') || !/^\d{1,10}$/.test(thread ?? '')) return undefined;
  if (startTime === undefined || host === undefined || !nonce) return undefined;
  return { pid: Number(pid), startTime, threadId: Number(thread), host, nonce, scope };
}

/** The start time of a running process, '-' if it runs but that is unknown, undefined if it does not run. */
export async function processStartTime(pid: number): Promise<string | undefined> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ESRCH') return undefined;
    try {
      process.kill(pid, 0); // no /proc: signal 0 only asks whether the pid exists (pid >= 1, parsed)
      return '-';
    } catch (k) {
      return errnoCode(k) === 'EPERM' ? '-' : undefined;
    }
  }
  // `pid (comm) state ... starttime`: comm may hold spaces and parentheses, so count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined; // exited, not yet reaped
  return fields[19] ?? '-';
}

let self: Promise<{ startTime: string; scope: string }> | undefined;

/** The host name is asked of the kernel at most once a second (it was a syscall per lock). */
const HOST_CACHE_MS = 1000;
let hostCache: { readonly name: string; readonly at: number } | undefined;

export function host(): string {
  const now = Date.now();
  if (hostCache === undefined || now - hostCache.at >= HOST_CACHE_MS || now < hostCache.at) {
    hostCache = { name: hostname().replace(/\s/g, '_') || '-', at: now };
  }
  return hostCache.name;
}

/** Our start time and `bootId/pidNamespace`, read once per thread ('-' where unknown). */
export function identity(): Promise<{ startTime: string; scope: string }> {
  self ??= (async () => {
    const startTime = (await processStartTime(process.pid)) ?? '-';
    const bootId = await readFile('/proc/sys/kernel/random/boot_id', 'utf8').then((s) => s.trim(), () => '-');
    const pidNs = await readlink('/proc/self/ns/pid').then((s) => s.replace(/\D/g, '') || '-', () => '-');
    return { startTime, scope: `${bootId || '-'}/${pidNs}` };
  })();
  return self;
}
