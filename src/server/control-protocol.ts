// What travels on the control socket: one JSON request line from `r2d2 who|kick|status` (or from
// `r2d2 deliver --recipient`), one JSON reply line from the engine, then the engine closes the
// connection.
import type { QuotaDefinition } from '../maildrop/quota';
import type { KickTarget, SessionInfo } from './live-sessions';

/** A request longer than this is refused (they are a few dozen octets). */
export const MAX_REQUEST_OCTETS = 4096;

/** One worker thread in `r2d2 status` (and the SIGUSR1 line). */
export type WorkerFigures =
  | { readonly slot: number; readonly state: 'up'; readonly sessions: number; readonly heapMiB: number }
  | { readonly slot: number; readonly state: 'down' | 'no answer' };

/** What SIGUSR1 logs and `r2d2 status` prints. */
export interface StatusFigures {
  readonly threads: number;
  /** Connections held across every worker (max_connections counts these). */
  readonly connections: number;
  readonly workers: readonly WorkerFigures[];
  readonly rssMiB: number;
  readonly databasePoolPerWorker: number;
  /** Worker threads replaced since the engine started. */
  readonly restarts: number;
}

/** RFC 5321 §4.5.3.1.3: a path is at most 256 octets; the engine checks the address itself too. */
const MAX_ADDRESS_OCTETS = 320;

export type ControlRequest =
  | { readonly command: 'who' }
  | { readonly command: 'status' }
  | ({ readonly command: 'kick' } & KickTarget)
  /** `r2d2 deliver --recipient`: the maildir (and quota) by the engine's recipient query and pool. */
  | { readonly command: 'recipient'; readonly address: string };

/** A recipient lookup's answer: where to deliver, or the sysexits status and reason to exit with. */
export type RecipientAnswer =
  | { readonly maildir: string; readonly quota: QuotaDefinition | undefined }
  | { readonly exitCode: number; readonly reason: string };

/** `unanswered`: worker threads that did not answer in time (their sessions are missing). */
export type ControlReply =
  | { readonly ok: true; readonly command: 'who'; readonly sessions: readonly SessionInfo[]; readonly unanswered: readonly number[] }
  | { readonly ok: true; readonly command: 'kick'; readonly kicked: number; readonly unanswered: readonly number[] }
  | { readonly ok: true; readonly command: 'status'; readonly status: StatusFigures }
  | { readonly ok: true; readonly command: 'recipient'; readonly answer: RecipientAnswer }
  | { readonly ok: false; readonly error: string };

/** A request line, checked field by field: anything else is an error message. */
export function parseRequest(line: string): ControlRequest | { readonly error: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { error: 'not JSON' };
  }
  if (typeof value !== 'object' || value === null) return { error: 'not a JSON object' };
  const { command, user, peer, address } = value as Record<string, unknown>;
  if (command === 'who' || command === 'status') return { command };
  if (command === 'recipient') {
    if (typeof address === 'string' && address !== '' && address.length <= MAX_ADDRESS_OCTETS) return { command, address };
    return { error: 'recipient needs an address' };
  }
  if (command !== 'kick') return { error: `unknown command ${JSON.stringify(command)}` };
  if (typeof user === 'string' && user !== '' && peer === undefined) return { command, user };
  if (typeof peer === 'string' && peer !== '' && user === undefined) return { command, peer };
  return { error: 'kick needs either user or peer' };
}

/** The SIGUSR1 log line's `workers` field: `0: 3 sessions, heap 12 MiB; 1: down`. */
export function describeWorkers(workers: readonly WorkerFigures[]): string {
  return workers.map((w) => `${w.slot}: ${w.state === 'up' ? `${w.sessions} sessions, heap ${w.heapMiB} MiB` : w.state}`).join('; ');
}
