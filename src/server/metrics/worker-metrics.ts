// A worker thread's metrics: a prom-client registry of its own, fed by the hooks (hooks.ts,
// pop3/metrics.ts, accounts/probe.ts), handed to the engine as JSON on each scrape. The engine
// sums the threads (engine-metrics.ts); only the event-loop lag keeps a `thread` label. Labels
// hold fixed words and listener names, never a user name or a client address.
import { getHeapStatistics } from 'node:v8';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AccountsProbe, PoolUse } from '../../accounts/probe';
import type { LoginMechanism, LoginResultLabel, LoginStage, SessionMetrics } from '../../pop3/metrics';
import { countedSource } from './counted-source';
import type { HandshakeOutcome, ListenerMetrics, Metrics } from './hooks';
import { watchLoopLag } from './loop-lag';

/** Seconds: from a cached SQL check (~1 ms) to a slow Argon2 or a stalled NFS scan. */
const LOGIN_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const MECHANISMS: readonly LoginMechanism[] = ['user', 'plain'];
const RESULTS: readonly LoginResultLabel[] = ['ok', 'bad_credentials', 'locked', 'refused', 'temp_failure'];
const STAGES: readonly LoginStage[] = ['query', 'hash', 'lock', 'scan'];

export interface WorkerMetricsOptions {
  /** The worker's slot: its `thread` label. */
  readonly slot: number;
  /** Lines this thread's logger has lost since it started. */
  readonly logLost: () => number;
}

export type MetricsSnapshot = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

export class WorkerMetrics implements Metrics {
  private readonly registry = new Registry();
  private readonly on = [this.registry];
  private readonly pools = new Set<PoolUse>();
  // The two calls made per write and per message are plain additions, moved into their counters
  // at each scrape (a labelled counter's inc builds and checks its label key every time).
  private readonly unsentBytes = new Map<string, { octets: number }>();
  private readonly unsentRetrieved = { retr: 0, top: 0 };

  private readonly accepted = new Counter({ name: 'r2d2_connections_accepted_total', help: 'Connections accepted, before limits and TLS.', labelNames: ['listener'], registers: this.on });
  private readonly refused = new Counter({ name: 'r2d2_connections_refused_total', help: 'Connections refused by a limit.', labelNames: ['listener', 'limit'], registers: this.on });
  private readonly started = new Counter({ name: 'r2d2_sessions_started_total', help: 'POP3 sessions started (greeting sent).', labelNames: ['listener'], registers: this.on });
  private readonly ended = new Counter({ name: 'r2d2_sessions_ended_total', help: 'POP3 sessions ended, by why.', labelNames: ['listener', 'reason'], registers: this.on });
  private readonly active = new Gauge({ name: 'r2d2_sessions_active', help: 'POP3 sessions in progress.', labelNames: ['listener'], registers: this.on });
  private readonly bytes = new Counter({
    name: 'r2d2_bytes_sent_total',
    help: 'Reply bytes sent to clients (before TLS).',
    labelNames: ['listener'],
    registers: this.on,
    collect: () => {
      for (const [listener, unsent] of this.unsentBytes) this.bytes.inc({ listener }, unsent.octets);
      for (const unsent of this.unsentBytes.values()) unsent.octets = 0;
    },
  });
  private readonly handshakes = new Counter({ name: 'r2d2_tls_handshakes_total', help: 'TLS handshakes completed, by protocol version.', labelNames: ['listener', 'version'], registers: this.on });
  private readonly handshakeFailures = new Counter({
    name: 'r2d2_tls_handshake_failures_total',
    help: 'TLS handshakes failed, by reason (protocol_version: the client offered only versions below min_tls_version).',
    labelNames: ['listener', 'reason'],
    registers: this.on,
  });
  private readonly logins = new Counter({ name: 'r2d2_logins_total', help: 'Logins answered, by result and mechanism.', labelNames: ['result', 'mechanism'], registers: this.on });
  private readonly loginSeconds = new Histogram({ name: 'r2d2_login_seconds', help: 'Time from PASS or AUTH to its answer, without the failed-login delay.', buckets: LOGIN_BUCKETS, registers: this.on });
  private readonly stageSeconds = new Histogram({
    name: 'r2d2_login_stage_seconds',
    help: 'Time of one stage of a login: the accounts query, the password hash check, the maildrop lock, the maildrop scan.',
    labelNames: ['stage'],
    buckets: LOGIN_BUCKETS,
    registers: this.on,
  });
  private readonly penalties = new Counter({ name: 'r2d2_login_penalties_total', help: 'Failed logins made to wait (the brute-force brake).', registers: this.on });
  private readonly penaltySeconds = new Counter({ name: 'r2d2_login_penalty_seconds_total', help: 'Seconds failed logins were made to wait.', registers: this.on });
  private readonly lockRefusals = new Counter({ name: 'r2d2_maildrop_lock_refusals_total', help: 'Logins refused because another session holds the maildrop ([IN-USE]).', registers: this.on });
  private readonly retrieved = new Counter({
    name: 'r2d2_messages_retrieved_total',
    help: 'Messages sent by RETR and TOP.',
    labelNames: ['command'],
    registers: this.on,
    collect: () => {
      for (const command of ['retr', 'top'] as const) {
        this.retrieved.inc({ command }, this.unsentRetrieved[command]);
        this.unsentRetrieved[command] = 0;
      }
    },
  });
  private readonly deleted = new Counter({ name: 'r2d2_messages_deleted_total', help: 'Messages removed in UPDATE.', registers: this.on });
  private readonly deleteFailures = new Counter({ name: 'r2d2_message_deletions_failed_total', help: 'Messages marked deleted that UPDATE could not remove.', registers: this.on });
  private readonly queryErrors = new Counter({ name: 'r2d2_db_query_errors_total', help: 'Accounts queries that failed (error, timeout, database down).', labelNames: ['query'], registers: this.on });

  readonly session: SessionMetrics;
  readonly accounts: AccountsProbe;

  constructor(options: WorkerMetricsOptions) {
    const pools = this.pools;
    const sum = (of: (use: PoolUse) => number): number => [...pools].reduce((n, use) => n + of(use), 0);
    new Gauge({ name: 'r2d2_db_pool_connections_in_use', help: 'Connections of the accounts pools running a query.', registers: this.on, collect() { this.set(sum((u) => Math.min(u.inFlight, u.size))); } });
    new Gauge({ name: 'r2d2_db_pool_waiting', help: 'Queries waiting for a connection of the accounts pools.', registers: this.on, collect() { this.set(sum((u) => Math.max(0, u.inFlight - u.size))); } });
    new Gauge({ name: 'r2d2_db_pool_size', help: 'Connections the accounts pools may open (pool_size).', registers: this.on, collect() { this.set(sum((u) => u.size)); } });
    new Gauge({ name: 'r2d2_heap_used_bytes', help: 'JavaScript heap in use, every thread of the engine together.', registers: this.on, collect() { this.set(getHeapStatistics().used_heap_size); } });
    countedSource(this.registry, 'r2d2_log_lines_lost_total', 'Log lines dropped (no socket, a dead collector, a full buffer).', options.logLost);
    watchLoopLag(this.registry, String(options.slot));

    for (const result of RESULTS) for (const mechanism of MECHANISMS) this.logins.inc({ result, mechanism }, 0);
    for (const stage of STAGES) this.stageSeconds.zero({ stage });
    for (const command of ['retr', 'top']) this.retrieved.inc({ command }, 0);
    for (const query of ['login', 'rehash']) this.queryErrors.inc({ query }, 0);
    this.session = this.sessionHooks();
    this.accounts = {
      query: (kind, seconds, failed) => {
        if (failed) this.queryErrors.inc({ query: kind });
        if (kind === 'login') this.stageSeconds.observe({ stage: 'query' }, seconds);
      },
      hashed: (seconds) => this.stageSeconds.observe({ stage: 'hash' }, seconds),
      watchPool: (use) => {
        pools.add(use);
        return () => pools.delete(use);
      },
    };
  }

  /** This thread's figures, for the engine to sum. */
  snapshot(): Promise<MetricsSnapshot> {
    return this.registry.getMetricsAsJSON();
  }

  listener(name: string): ListenerMetrics {
    const listener = { listener: name };
    for (const counter of [this.accepted, this.started, this.bytes]) counter.inc(listener, 0);
    this.active.set(listener, 0);
    const unsent = this.unsentBytes.get(name) ?? { octets: 0 };
    this.unsentBytes.set(name, unsent);
    return {
      accepted: () => this.accepted.inc(listener),
      refused: (limit) => this.refused.inc({ listener: name, limit }),
      handshake: (outcome: HandshakeOutcome) =>
        outcome.ok ? this.handshakes.inc({ listener: name, version: outcome.version }) : this.handshakeFailures.inc({ listener: name, reason: outcome.reason }),
      started: () => {
        this.started.inc(listener);
        this.active.inc(listener);
      },
      ended: (reason) => {
        this.ended.inc({ listener: name, reason: reason.replace(/ /g, '_') });
        this.active.dec(listener);
      },
      sent: (data) => {
        if (typeof data === 'string') unsent.octets += Buffer.byteLength(data);
        else for (const piece of data) unsent.octets += piece.length;
      },
    };
  }

  private sessionHooks(): SessionMetrics {
    return {
      login: (mechanism, result, seconds) => {
        this.logins.inc({ result, mechanism });
        if (result === 'locked') this.lockRefusals.inc();
        if (seconds !== undefined) this.loginSeconds.observe(seconds);
      },
      loginStage: (stage, seconds) => this.stageSeconds.observe({ stage }, seconds),
      penalty: (ms) => {
        this.penalties.inc();
        this.penaltySeconds.inc(ms / 1000);
      },
      retrieved: (command) => void this.unsentRetrieved[command]++,
      deleted: (removed, failed) => {
        this.deleted.inc(removed);
        if (failed > 0) this.deleteFailures.inc(failed);
      },
    };
  }
}
