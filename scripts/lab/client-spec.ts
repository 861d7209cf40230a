// What the lab's controller asks of its client process (run inside the client namespace, where
// the balancers can be reached) and what the client answers.
import type { ErrorEvent } from '../../bench/load/protocol';

export interface ClientSpec {
  readonly mode: 'load' | 'local-demo';
  readonly balancer: { readonly host: string; readonly port: number };
  readonly nginx?: { readonly host: string; readonly port: number; readonly users: readonly string[] } | undefined;
  readonly password: string;
  /** Users for the existing load generator (bench/load): maildrops nobody deletes from. */
  readonly readers: readonly string[];
  readonly readerClients: number;
  readonly readerThreads: number;
  readonly expectCount: number;
  readonly expectSizes: readonly number[];
  /** Users of the deleting clients: one client each, fetching and deleting everything. */
  readonly deleters: readonly string[];
  /** A deleting session stays open this long between its RETRs and its DELEs. */
  readonly holdMs: number;
  /** Date.now() at which no new session starts. */
  readonly deadline: number;
  /** local-demo: two r2d2 hosts with backend = local on one maildir root, and a user. */
  readonly demo?: { readonly first: { host: string; port: number }; readonly second: { host: string; port: number }; readonly user: string } | undefined;
  /** Where the client writes its ClientResult (JSON). */
  readonly out: string;
}

export type SessionOutcome = 'deleted' | 'kept' | 'refused' | 'quit-refused' | 'broken';

/** One session of a deleting client, as the client saw it. */
export interface DeleterSession {
  readonly user: string;
  /** The client's TCP source port: the r2d2 host's connect line names it (PROXY protocol). */
  readonly port: number;
  readonly connectedAt: number;
  /** When PASS was answered +OK (undefined: never logged in). */
  readonly loginAt: number | undefined;
  readonly endedAt: number;
  readonly outcome: SessionOutcome;
  /** QUIT was sent: the server may have applied the DELEs even if its answer never came (killed in UPDATE). */
  readonly quitSent: boolean;
  /** The lab ids of the messages RETR returned, in order. */
  readonly served: readonly string[];
  /** -ERR texts and connection errors. */
  readonly error: string | undefined;
}

export interface ClientResult {
  readonly readers: {
    readonly sessions: number;
    readonly errors: number;
    readonly errorSamples: readonly string[];
    readonly errorEvents: readonly ErrorEvent[];
    readonly p50Ms: number;
  };
  readonly deleters: readonly DeleterSession[];
  readonly nginx: { readonly ok: number; readonly failed: readonly string[] } | undefined;
  readonly demo: { readonly first: string; readonly second: string } | undefined;
}
