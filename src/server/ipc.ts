// IPC between r2d2's processes and threads (not mail): supervisor <-> engine, a forked child on
// Node's IPC channel, and engine <-> worker threads (postMessage).
import type { Config } from '../config/types';
import type { KickTarget, SessionInfo } from './live-sessions';
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

/** What the engine asks a worker (SIGUSR1, the control socket); each has its answer below. */
export type WorkerQuery = { readonly kind: 'status' } | { readonly kind: 'sessions' } | { readonly kind: 'kick'; readonly target: KickTarget };
export type WorkerAnswer =
  | { readonly kind: 'status'; readonly sessions: number; readonly heapUsed: number }
  | { readonly kind: 'sessions'; readonly sessions: readonly SessionInfo[] }
  | { readonly kind: 'kick'; readonly kicked: number };

/** Engine -> worker. */
export type ToWorker =
  /** `fds`: listeners new to this worker (or moved) and the dup each is to accept on. */
  | { readonly type: 'reload'; readonly config: Config; readonly fds: ReadonlyArray<readonly [string, number]> }
  | { readonly type: 'shutdown'; readonly drainMs: number }
  | { readonly type: 'query'; readonly id: number; readonly query: WorkerQuery }
  /** A scrape: the worker's metrics as prom-client JSON (server/metrics/). */
  | { readonly type: 'metrics'; readonly id: number };

/** Worker -> engine. */
export type FromWorker =
  | { readonly type: 'ready' }
  | { readonly type: 'reloaded'; readonly errors: readonly string[] }
  | { readonly type: 'answer'; readonly id: number; readonly answer: WorkerAnswer }
  | { readonly type: 'metrics'; readonly id: number; readonly snapshot: unknown };

/** Engine <-> supervisor (IPC). The supervisor reads the personality (the engine may run as a
 *  user that cannot) and sends the Config at start and on SIGHUP. */
export type ToSupervisor = { readonly type: 'dup'; readonly listener: string; readonly id: number };
export type FromSupervisor =
  /** The dup comes as the message's handle; none when the listener is gone (removed at reload). */
  | { readonly type: 'fd'; readonly listener: string; readonly id: number }
  | { readonly type: 'start'; readonly config: Config }
  | { readonly type: 'reload'; readonly config: Config }
  /** Tests only (R2D2_TEST_HOOKS=1): end this worker as if it had crashed. */
  | { readonly type: 'test-kill'; readonly slot: number };
