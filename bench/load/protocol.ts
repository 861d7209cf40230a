// What the bench's main thread and its load-generator workers say to each other.

export type Workload = 'login' | 'retrieve' | 'big' | 'large' | 'idle';
export type Transport = 'plain' | 'stls' | 'implicit';

export interface Target {
  readonly host: string;
  /** The port for this transport (the plain port for `plain` and `stls`). */
  readonly port: number;
  readonly transport: Transport;
}

export interface RunSpec {
  readonly workload: Exclude<Workload, 'idle'>;
  readonly target: Target;
  /** Users this worker's clients take turns on; one client never shares a user with another. */
  readonly clients: readonly (readonly string[])[];
  readonly password: string;
  /** Stop starting sessions at this time (Date.now() ms) ... */
  readonly deadline: number;
  /** ... or after this many sessions per client, whichever comes first. */
  readonly maxSessionsPerClient: number;
  /** What STAT must say (message count), and each message's size as served, for checks. */
  readonly expectCount: number;
  readonly expectSizes: readonly number[];
  /** A session taking longer than this is dropped and counted as an error. */
  readonly sessionTimeoutMs: number;
}

export interface IdleSpec {
  readonly target: Target;
  readonly users: readonly string[];
  readonly password: string;
  readonly concurrency: number;
  readonly sessionTimeoutMs: number;
}

export type ToWorker =
  | { readonly type: 'run'; readonly spec: RunSpec }
  | { readonly type: 'idle-open'; readonly spec: IdleSpec }
  | { readonly type: 'idle-close' };

export interface ErrorEvent {
  readonly at: number;
  readonly text: string;
}

export interface RunResult {
  readonly sessions: number;
  readonly errors: number;
  /** Up to a few distinct error texts, for the report. */
  readonly errorSamples: readonly string[];
  /** When each error happened (Date.now() ms) and its text, up to MAX_ERROR_EVENTS: the lab places them in time. */
  readonly errorEvents: readonly ErrorEvent[];
  readonly bytes: number;
  readonly messages: number;
  /** Session latencies in ms (connect to the QUIT reply). */
  readonly latencies: Float64Array;
  /** What TLS the sessions negotiated (protocol and cipher), when they used TLS. */
  readonly tls: string | undefined;
}

export type FromWorker =
  | { readonly type: 'run-done'; readonly result: RunResult }
  | { readonly type: 'idle-opened'; readonly opened: number; readonly errors: number; readonly errorSamples: readonly string[] }
  | { readonly type: 'idle-closed'; readonly errors: number; readonly errorSamples: readonly string[] };
