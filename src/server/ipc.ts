// IPC between r2d2's processes and threads (not mail): supervisor <-> engine, a forked child on
// Node's IPC channel, and engine <-> worker threads (postMessage).
import type { Config } from '../config/types';
import type { SharedBuffers } from './shared-state';

/** What a worker thread is started with. */
export interface WorkerData {
  readonly config: Config;
  readonly slot: number;
  /** Listener name -> listening fd, a dup of its own (see engine.ts). */
  readonly fds: ReadonlyArray<readonly [string, number]>;
  readonly shared: SharedBuffers;
  readonly implementation: string;
}

/** Engine -> worker. */
export type ToWorker =
  | { readonly type: 'reload'; readonly config: Config }
  | { readonly type: 'shutdown'; readonly drainMs: number }
  | { readonly type: 'status' }
  /** A scrape: the worker's metrics as prom-client JSON (server/metrics/). */
  | { readonly type: 'metrics'; readonly id: number };

/** Worker -> engine. */
export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'reloaded'; readonly errors: readonly string[] }
  | { readonly type: 'status'; readonly sessions: number; readonly heapUsed: number }
  | { readonly type: 'metrics'; readonly id: number; readonly snapshot: unknown };

/** Engine <-> supervisor (IPC). The supervisor reads the personality (the engine may run as a
 *  user that cannot) and sends the Config at start and on SIGHUP. */
export type ToSupervisor = { readonly type: 'dup'; readonly listener: string; readonly id: number };
export type FromSupervisor =
  | { readonly type: 'fd'; readonly listener: string; readonly id: number }
  | { readonly type: 'start'; readonly config: Config }
  | { readonly type: 'reload'; readonly config: Config }
  /** Tests only (R2D2_TEST_HOOKS=1): end this worker as if it had crashed. */
  | { readonly type: 'test-kill'; readonly slot: number };
