// What the lab proves, from the hosts' log lines and the clients' own records: sessions on the
// surviving hosts went on; the killed host's maildrops were served elsewhere within the lease
// and a few seconds; no maildrop was open on two hosts at once; no message was lost, or served
// again after a QUIT that deleted it.
import type { ClientResult, DeleterSession } from './client-spec';
import type { LogLine, LoggedSession } from './log-lines';

/** "A few seconds" past the lease for a takeover: a client's retry, a login, a scan. */
export const TAKEOVER_SLACK_MS = 3000;

export interface LabFacts {
  readonly lines: readonly LogLine[];
  readonly sessions: ReadonlyMap<string, LoggedSession>;
  readonly client: ClientResult;
  readonly killedHost: string;
  readonly killedAt: number;
  readonly dbStoppedAt: number;
  readonly leaseMs: number;
  /** Lab id -> user, for every message delivered to a deleting client's maildrop. */
  readonly delivered: ReadonlyMap<string, string>;
  /** Lab ids found in the deleting clients' maildrops at the end. */
  readonly remaining: ReadonlySet<string>;
}

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  /** Figures and findings, one line each. */
  readonly lines: readonly string[];
}

export function runChecks(f: LabFacts): Check[] {
  return [survivorsWentOn(f), takeover(f), databaseStop(f), neverTwice(f), messages(f), deleterOutcomes(f), readerErrors(f)];
}

function databaseStop(f: LabFacts): Check {
  const survivors = [...new Set(f.lines.map((l) => l.host))].filter((h) => h !== f.killedHost && h.startsWith('lab-h'));
  const lines = [`database server db1 stopped at +${seconds(f.dbStoppedAt - f.killedAt)} after the kill`];
  let ok = survivors.length > 0;
  for (const host of survivors) {
    const failover = f.lines.find((l) => l.host === host && l.at >= f.dbStoppedAt && l.text.startsWith('database server failed'));
    if (failover === undefined) {
      ok = false;
      lines.push(`  ${host}: never moved to another database server`);
    } else lines.push(`  ${host}: ${failover.text.trim()} ${seconds(failover.at - f.dbStoppedAt)} after the stop (${failover.fields.get('database') ?? ''} pool)`);
  }
  return { name: 'a database server stopped: the other hosts moved to the next one', ok, lines };
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** While the killed host's leases ran out: [IN-USE] for its maildrops is expected then. */
const inKillWindow = (f: LabFacts, at: number): boolean => at >= f.killedAt - 1000 && at <= f.killedAt + f.leaseMs + TAKEOVER_SLACK_MS;

function survivorsWentOn(f: LabFacts): Check {
  // POP3 sessions only: an auth_http request is numbered too, but has no connect line.
  const survivors = [...f.sessions.values()].filter((s) => s.host !== f.killedHost && s.port !== undefined && !s.healthCheck);
  const refusedInUse = (s: LoggedSession): LogLine | undefined => s.lines.find((l) => l.text.startsWith('lock refused: maildrop in use'));
  const bad: string[] = [];
  let waited = 0;
  for (const s of survivors) {
    const refusal = refusedInUse(s);
    if (s.loginAt === undefined && refusal !== undefined) {
      // The killed host's maildrop, until its lease ran out: the client gave up and went again.
      if (inKillWindow(f, refusal.at)) waited++;
      else bad.push(`  ${s.key}: [IN-USE] for ${refusal.fields.get('user') ?? '-'} outside the kill window`);
    } else if (s.disconnect === undefined) bad.push(`  never ended: ${s.key} user=${s.user ?? '-'}`);
    else if (s.disconnect !== 'peer quit') bad.push(`  ended otherwise: ${s.key} user=${s.user ?? '-'}: ${s.disconnect}`);
  }
  const errors = f.lines.filter((l) => l.host !== f.killedHost && l.severity <= 3);
  const lines = [
    `${survivors.length} sessions on the other hosts: ${survivors.length - waited - bad.length} ended with QUIT, ${waited} refused [IN-USE] while the killed host's leases ran out`,
    ...bad.slice(0, 10),
    `error lines on the other hosts: ${errors.length}`,
    ...errors.slice(0, 10).map((l) => `  ${l.host}: ${l.text} ${[...l.fields].map(([k, v]) => `${k}=${v}`).join(' ')}`),
  ];
  return { name: 'every session on the other hosts went on', ok: bad.length === 0 && errors.length === 0, lines };
}

function takeover(f: LabFacts): Check {
  // Held when it died: logged in, and never began to release (one releasing at that moment may
  // well have deleted its row, and its maildrop is rightly taken at once).
  const held = [...f.sessions.values()].filter((s) => s.host === f.killedHost && s.user !== undefined && s.loginAt !== undefined && s.heldUntil === undefined);
  const limit = f.leaseMs + TAKEOVER_SLACK_MS;
  const lines: string[] = [`${held.length} maildrops open on ${f.killedHost} when it was killed (lease ${seconds(f.leaseMs)})`];
  let ok = true;
  const delays: number[] = [];
  for (const s of held) {
    const next = [...f.sessions.values()]
      .filter((o) => o.user === s.user && o.host !== f.killedHost && o.loginAt !== undefined && o.loginAt >= f.killedAt)
      .sort((a, b) => (a.loginAt ?? 0) - (b.loginAt ?? 0))[0];
    if (next?.loginAt === undefined) {
      lines.push(`  ${s.user ?? '-'}: not served again`);
      ok = false;
      continue;
    }
    const delay = next.loginAt - f.killedAt;
    delays.push(delay);
    if (delay > limit) {
      ok = false;
      lines.push(`  ${s.user ?? '-'}: served by ${next.host} only after ${seconds(delay)} (limit ${seconds(limit)})`);
    }
  }
  if (delays.length > 0) lines.push(`served elsewhere after ${seconds(Math.min(...delays))} to ${seconds(Math.max(...delays))} (limit lease + ${seconds(TAKEOVER_SLACK_MS)})`);
  return { name: "the killed host's maildrops were served elsewhere within the lease", ok: ok && held.length > 0, lines: held.length > 0 ? lines : [...lines, '  (none: the kill proved nothing)'] };
}

function neverTwice(f: LabFacts): Check {
  const byUser = new Map<string, LoggedSession[]>();
  for (const s of f.sessions.values()) {
    if (s.user === undefined || s.loginAt === undefined) continue;
    byUser.set(s.user, [...(byUser.get(s.user) ?? []), s]);
  }
  const end = (s: LoggedSession): number => s.heldUntil ?? (s.host === f.killedHost ? f.killedAt : Number.POSITIVE_INFINITY);
  const overlaps: string[] = [];
  let holds = 0;
  for (const [user, list] of byUser) {
    list.sort((a, b) => (a.loginAt ?? 0) - (b.loginAt ?? 0));
    holds += list.length;
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i];
        const b = list[j];
        if (a === undefined || b === undefined || (b.loginAt ?? 0) >= end(a)) continue;
        overlaps.push(`  ${user}: ${a.key} (held until ${end(a)}) and ${b.key} (from ${b.loginAt ?? 0})`);
      }
    }
  }
  const lines = [`${holds} holds of ${byUser.size} maildrops compared (login ok .. lock released, from every host's log)`, `overlapping holds: ${overlaps.length}`, ...overlaps.slice(0, 10)];
  return { name: 'no maildrop was ever open on two hosts at once', ok: overlaps.length === 0 && holds > 0, lines };
}

function messages(f: LabFacts): Check {
  const deleting = f.client.deleters.filter((s) => s.outcome === 'deleted');
  const deletedBy = new Map<string, DeleterSession[]>();
  for (const s of deleting) for (const id of s.served) deletedBy.set(id, [...(deletedBy.get(id) ?? []), s]);
  // A session killed after its UPDATE but before its +OK reached the client (QUIT sent, answer
  // lost) may have removed what it served: the client has those messages, it only never heard
  // that they were removed. Lost is a message gone that no client was served up to its QUIT.
  const unanswered = f.client.deleters.filter((s) => s.outcome === 'broken' && s.quitSent);
  const servedToQuit = new Set([...deleting, ...unanswered].flatMap((s) => s.served));
  const lost = [...f.delivered.keys()].filter((id) => !servedToQuit.has(id) && !f.remaining.has(id));
  const removedUnanswered = unanswered.flatMap((s) => s.served).filter((id) => !deletedBy.has(id) && !f.remaining.has(id));
  const twiceDeleted = [...deletedBy].filter(([, by]) => by.length > 1).map(([id]) => id);
  const stillThere = [...deletedBy.keys()].filter((id) => f.remaining.has(id));
  const servedAgain: string[] = [];
  for (const [id, [first]] of deletedBy) {
    if (first === undefined) continue;
    const again = f.client.deleters.find((t) => t !== first && t.loginAt !== undefined && t.loginAt > first.endedAt && t.served.includes(id));
    if (again !== undefined) servedAgain.push(`${id} (deleted at ${first.endedAt}, served again at ${again.loginAt ?? 0})`);
  }
  const unknown = [...new Set(f.client.deleters.flatMap((s) => s.served))].filter((id) => !f.delivered.has(id));
  const served = new Set(f.client.deleters.flatMap((s) => s.served));
  const lines = [
    `${f.delivered.size} messages delivered to ${new Set(f.delivered.values()).size} deleting users; ${served.size} served, ${deletedBy.size} deleted (${deleting.length} sessions whose QUIT said +OK), ${f.remaining.size} left in the maildrops`,
    `lost: ${lost.length}${lost.length > 0 ? ` (${lost.slice(0, 5).join(', ')})` : ''}`,
    `removed by a QUIT whose +OK never came (its host killed in UPDATE; the client had them): ${removedUnanswered.length}`,
    `served again after a QUIT that deleted them: ${servedAgain.length}`,
    ...servedAgain.slice(0, 5).map((s) => `  ${s}`),
    `deleted by two sessions: ${twiceDeleted.length}; said deleted but still there: ${stillThere.length}; not ours: ${unknown.length}`,
  ];
  const ok = lost.length === 0 && servedAgain.length === 0 && twiceDeleted.length === 0 && stillThere.length === 0 && unknown.length === 0 && deletedBy.size > 0;
  return { name: 'no message lost, none served again to a client that deleted it', ok, lines };
}

/** How the deleting clients' sessions went, each failure placed on a host through its source port. */
function deleterOutcomes(f: LabFacts): Check {
  // Source ports are reused over a run: the session is the one that port connected closest in time.
  const byPort = new Map<string, LoggedSession[]>();
  for (const s of f.sessions.values()) if (s.port !== undefined) byPort.set(s.port, [...(byPort.get(s.port) ?? []), s]);
  const placed = (d: DeleterSession): LoggedSession | undefined =>
    (byPort.get(String(d.port)) ?? [])
      .map((s) => ({ s, gap: Math.abs((s.lines[0]?.at ?? 0) - d.connectedAt) }))
      .filter((c) => c.gap < 2000)
      .sort((a, b) => a.gap - b.gap)[0]?.s;
  const window = (at: number): boolean => inKillWindow(f, at);
  const count = (o: DeleterSession['outcome']): number => f.client.deleters.filter((s) => s.outcome === o).length;
  const bad: string[] = [];
  let unplaced = 0;
  for (const s of f.client.deleters) {
    if (s.outcome === 'broken') {
      const logged = placed(s);
      if (logged === undefined) {
        unplaced++; // its connect line died with its host, or the session never reached one
        if (!window(s.endedAt)) bad.push(`  broken outside the kill, on no host's log: ${s.error ?? ''}`);
      }
      else if (logged.host !== f.killedHost) bad.push(`  broken on ${logged.host} (${logged.key}): ${s.error ?? ''}`);
      else if (!window(s.endedAt)) bad.push(`  broken on ${logged.host} outside the kill: ${s.error ?? ''}`);
    } else if (s.outcome === 'refused' && !(s.error?.startsWith('[IN-USE]') === true && window(s.endedAt))) {
      bad.push(`  ${s.user} refused: ${s.error ?? ''}`);
    } else if (s.outcome === 'quit-refused' || (s.outcome === 'kept' && s.error !== undefined)) {
      bad.push(`  ${s.user} ${s.outcome}: ${s.error ?? ''}`);
    }
  }
  const lines = [
    `${f.client.deleters.length} deleting sessions: ${count('deleted')} deleted, ${count('kept')} found nothing, ${count('refused')} refused, ${count('broken')} broken, ${count('quit-refused')} QUIT refused`,
    `broken sessions not found in any host's log: ${unplaced}`,
    ...bad.slice(0, 10),
  ];
  return { name: 'deleting clients failed only where the killed host explains it', ok: bad.length === 0, lines };
}

function readerErrors(f: LabFacts): Check {
  const r = f.client.readers;
  const outside = r.errorEvents.filter((e) => !inKillWindow(f, e.at));
  const lines = [
    `load generator (bench/load, login workload): ${r.sessions} sessions, p50 ${r.p50Ms} ms, ${r.errors} errors${r.errors > 0 ? `: ${r.errorSamples.join(' | ')}` : ''}`,
    `errors outside the kill window (kill .. lease + ${seconds(TAKEOVER_SLACK_MS)}): ${outside.length}`,
    ...outside.slice(0, 5).map((e) => `  at +${seconds(e.at - f.killedAt)}: ${e.text}`),
  ];
  return { name: 'the load generator failed only around the kill', ok: outside.length === 0 && r.sessions > 0, lines };
}
