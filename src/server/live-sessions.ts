// The sessions a worker thread is running, for `r2d2 who` and `r2d2 kick` (control-socket.ts).
import { foldLogin } from '../accounts/fold-login';
import type { Pop3Session } from '../pop3/session';
import type { Connection } from './connection';

/** One session as `r2d2 who` shows it. */
export interface SessionInfo {
  /** The [N] of its log lines. */
  readonly session: number;
  /** The login name, once logged in (TRANSACTION); undefined before. */
  readonly user: string | undefined;
  readonly peer: string;
  readonly listener: string;
  /** When it connected, ISO 8601. */
  readonly since: string;
  readonly state: 'AUTHORIZATION' | 'TRANSACTION' | 'UPDATE';
  /** Octets of replies sent so far (before TLS). */
  readonly bytesSent: number;
  readonly worker: number;
  /** The TLS protocol and cipher, once TLS runs. */
  readonly tls: string | undefined;
}

/** Whom `r2d2 kick` ends: a user's logged-in sessions, or every session from an address. */
export type KickTarget = { readonly user: string } | { readonly peer: string };

interface Entry {
  readonly session: number;
  readonly peer: string;
  readonly listener: string;
  readonly since: number;
  readonly connection: Connection;
  readonly pop3: Pop3Session;
}

export class LiveSessions {
  private readonly entries = new Map<Connection, Entry>();

  add(entry: Entry): void {
    this.entries.set(entry.connection, entry);
  }

  delete(connection: Connection): void {
    this.entries.delete(connection);
  }

  get size(): number {
    return this.entries.size;
  }

  connections(): IterableIterator<Connection> {
    return this.entries.keys();
  }

  list(worker: number): SessionInfo[] {
    return [...this.entries.values()].map((e) => ({
      session: e.session,
      user: e.pop3.state.kind === 'TRANSACTION' ? e.pop3.state.user : undefined,
      peer: e.peer,
      listener: e.listener,
      since: new Date(e.since).toISOString(),
      state: e.pop3.state.kind,
      bytesSent: e.connection.sent,
      worker,
      tls: e.connection.tls,
    }));
  }

  /** Ends the sessions `target` names as a shutdown would (no deletions); how many. */
  kick(target: KickTarget): number {
    let kicked = 0;
    for (const e of this.entries.values()) {
      if (matches(e, target) && e.connection.kick()) kicked++;
    }
    return kicked;
  }
}

function matches(entry: Entry, target: KickTarget): boolean {
  const state = entry.pop3.state;
  if (state.kind === 'UPDATE') return false; // ending already, its deletions applied or abandoned
  if ('peer' in target) return plainAddress(entry.peer) === plainAddress(target.peer);
  // The database compares names case- and accent-insensitively: so does kick (fold-login.ts).
  return state.kind === 'TRANSACTION' && foldLogin(state.user) === foldLogin(target.user);
}

/** `::ffff:192.0.2.7` (an IPv4 client of a dual-stack listener) is 192.0.2.7. */
function plainAddress(address: string): string {
  const lower = address.toLowerCase();
  return lower.startsWith('::ffff:') && lower.includes('.') ? lower.slice(7) : lower;
}
