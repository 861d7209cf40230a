// SHA-crypt and MD5-crypt in a small pool of worker threads (piscina: the maintained Node
// worker pool, with queueing, idle shutdown and crash recovery), so 5000 rounds of SHA-512
// never stall a thread that serves sessions. bcrypt and Argon2 run on libuv's pool instead.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import type { CryptTask } from './crypt-worker';

/** Few threads: each login's hash is short, and every server thread has its own pool. */
const MAX_THREADS = Math.max(1, Math.min(2, availableParallelism()));
const IDLE_MS = 30_000;

let pool: Piscina<CryptTask, string | undefined> | undefined;

export function cryptInPool(task: CryptTask): Promise<string | undefined> {
  pool ??= new Piscina<CryptTask, string | undefined>({
    filename: join(__dirname, 'crypt-worker.js'),
    name: 'crypt',
    minThreads: 0,
    maxThreads: MAX_THREADS,
    idleTimeout: IDLE_MS,
  });
  return pool.run(task);
}

/** Stops the pool's threads (a later cryptInPool starts a new pool). */
export async function closeCryptPool(): Promise<void> {
  const closing = pool;
  pool = undefined;
  await closing?.destroy();
}
