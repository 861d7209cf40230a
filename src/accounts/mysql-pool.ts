// A mysql2 pool per server of a `database` section, used in order: statements go to the first
// server that answers; one that fails (refused, unreachable within connect_timeout, a broken
// connection, a query timeout, a Galera node that is not ready, a read-only server, a server
// shutting down) is set aside and the statement is asked of the next. A server set aside is
// probed in the background every few seconds and used again as soon as it answers, so no login
// waits on a server still down.
//
// Ordered, not round-robin, on purpose: on Galera every host then writes to the same node
// (maildrop leases conflict in InnoDB's locks, not in certification), and with a primary and a
// replica the primary is the one used. mysql2's PoolCluster (ORDER) does not set a server aside
// on a failed query (a hung server keeps its pooled connections) and probes on a login's time.
//
// mysql2's callback API, not its promise wrapper: the wrapper captures a stack trace for every
// statement and adds a promise per step (about 1% of a plain login's CPU); one promise per
// statement is made here instead.
import type { Logger } from 'pino';
import { createPool, type Pool, type PoolConnection, type PoolOptions, type QueryResult } from 'mysql2';
import type { DatabaseConfig, DatabaseHost } from '../config/types';
import { mysqlConnectionOptions } from './mysql-options';

/** What a statement returns: rows for a SELECT, a header (affectedRows) for the rest. */
export type StatementResult = QueryResult;

export interface PoolSettings {
  readonly connectionLimit: number;
  /** mysql2 client flags, e.g. `-FOUND_ROWS` so that affectedRows counts changed rows only. */
  readonly flags?: readonly string[];
  /** Where a server going away and coming back is reported. */
  readonly log?: Logger | undefined;
}

/** A bound value; a list (text statements only) becomes `'a', 'b'` for `IN (?)`. */
export type Param = string | number | readonly string[];

export interface Statement {
  readonly sql: string;
  readonly params: readonly Param[];
  readonly timeoutMs: number;
  /** Safe to run again on the next server when the connection broke mid-way (a SELECT, an idempotent write). */
  readonly retry: boolean;
  /** `query` sends the text with values escaped by mysql2 (IN lists of any length); default: a prepared statement. */
  readonly text?: boolean;
}

export interface MysqlPool {
  run(statement: Statement): Promise<StatementResult>;
  /** The server statements go to now (for logs). */
  readonly current: string;
  end(): Promise<void>;
}

/** How often a server set aside is asked again. */
const PROBE_INTERVAL_MS = 5000;
/**
 * Server errors that mean "ask another server": a Galera node outside the primary component
 * (1047; 1180 when it leaves while a write commits: "Error while appending streaming replication
 * fragment (provider status: Not connected to Primary Component)", nothing committed), a
 * read-only server (1290, 1836), a server shutting down (1053) or that killed or interrupted
 * the statement's connection on its way down (1927, 1317).
 */
const UNUSABLE_SERVER_ERRNOS = new Set([1047, 1053, 1180, 1290, 1317, 1836, 1927]);

interface Server {
  readonly name: string;
  readonly pool: Pool;
  up: boolean;
  probe: NodeJS.Timeout | undefined;
}

export function openMysqlPool(db: DatabaseConfig, settings: PoolSettings): MysqlPool {
  const base: PoolOptions = {
    ...mysqlConnectionOptions(db),
    connectionLimit: settings.connectionLimit,
    waitForConnections: true,
    queueLimit: 0,
    enableKeepAlive: true,
    rowsAsArray: false,
    ...(settings.flags === undefined ? {} : { flags: [...settings.flags] }),
  };
  // A unix socket is one server, whatever hosts says (mysqlConnectionOptions already chose it).
  const hosts: readonly (DatabaseHost | undefined)[] = db.socket !== undefined ? [undefined] : db.hosts;
  const servers: Server[] = hosts.map((h) => ({
    name: h === undefined ? (db.socket ?? '') : `${h.host}:${h.port}`,
    pool: createPool(h === undefined ? base : { ...base, host: h.host, port: h.port }),
    up: true,
    probe: undefined,
  }));
  return new OrderedPool(db.name, servers, settings.log);
}

class OrderedPool implements MysqlPool {
  private ended = false;

  constructor(
    private readonly database: string,
    private readonly servers: readonly Server[],
    private readonly log: Logger | undefined,
  ) {}

  get current(): string {
    return (this.servers.find((s) => s.up) ?? this.servers[0])?.name ?? '-';
  }

  async run(statement: Statement): Promise<StatementResult> {
    let lastError: unknown = new Error(`database "${this.database}": no server`);
    // Servers that answer first, in order; then those set aside (one may be back before its probe says so).
    const order = [...this.servers.filter((s) => s.up), ...this.servers.filter((s) => !s.up)];
    for (const server of order) {
      let connection: PoolConnection;
      try {
        connection = await connectionOf(server.pool);
      } catch (error) {
        this.setAside(server, error);
        lastError = error;
        continue;
      }
      try {
        const result = await runOn(connection, statement);
        connection.release();
        this.cameBack(server);
        return result;
      } catch (error) {
        if (!isServerFailure(error)) {
          connection.release();
          throw error;
        }
        // A timed-out statement leaves the connection mid-command: never give it back to the pool.
        connection.destroy();
        this.setAside(server, error);
        lastError = error;
        if (!statement.retry) throw error;
      }
    }
    throw lastError;
  }

  async end(): Promise<void> {
    this.ended = true;
    for (const server of this.servers) clearTimeout(server.probe);
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.pool.end(() => resolve()))));
  }

  private setAside(server: Server, error: unknown): void {
    if (this.servers.length === 1 || this.ended) return; // nothing to fail over to
    if (server.up) {
      server.up = false;
      const next = this.servers.find((s) => s.up);
      this.log?.warn(
        { database: this.database, server: server.name, reason: reasonOf(error) },
        next === undefined ? 'database server failed; no other server answers' : `database server failed; using ${next.name}`,
      );
    }
    server.probe ??= setTimeout(() => this.probe(server), PROBE_INTERVAL_MS).unref();
  }

  private cameBack(server: Server): void {
    if (server.up) return;
    server.up = true;
    clearTimeout(server.probe);
    server.probe = undefined;
    this.log?.info({ database: this.database, server: server.name }, 'database server answers again');
  }

  private probe(server: Server): void {
    server.probe = undefined;
    if (this.ended || server.up) return;
    server.pool.getConnection((connectError, connection) => {
      if (isError(connectError)) return this.setAside(server, undefined);
      connection.ping((pingError) => {
        if (!isError(pingError)) {
          connection.release();
          this.cameBack(server);
        } else {
          connection.destroy();
          this.setAside(server, undefined);
        }
      });
    });
  }
}

function connectionOf(pool: Pool): Promise<PoolConnection> {
  return new Promise((resolve, reject) => pool.getConnection((error, connection) => (isError(error) ? reject(error) : resolve(connection))));
}

/** The statement on one connection: a prepared statement (cached per connection by mysql2), or text. */
function runOn(connection: PoolConnection, statement: Statement): Promise<StatementResult> {
  const params = statement.params.map((p) => (typeof p === 'object' ? [...p] : p));
  const options = { sql: statement.sql, timeout: statement.timeoutMs };
  return new Promise((resolve, reject) => {
    const done = (error: unknown, result: StatementResult): void => (isError(error) ? reject(error) : resolve(result));
    if (statement.text === true) connection.query<StatementResult>(options, params, done);
    else connection.execute<StatementResult>(options, params, done);
  });
}

/** mysql2's callbacks pass null for no error, except ping's, which passes nothing at all. */
function isError(error: unknown): boolean {
  return error !== null && error !== undefined;
}

/** An error of the server or the connection to it, not of the statement: another server may answer. */
export function isServerFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { fatal, code, errno } = error as { fatal?: unknown; code?: unknown; errno?: unknown };
  if (fatal === true || code === 'PROTOCOL_SEQUENCE_TIMEOUT') return true;
  return typeof errno === 'number' && UNUSABLE_SERVER_ERRNOS.has(errno);
}

function reasonOf(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const { code, message } = error as { code?: unknown; message?: unknown };
  return [code, message].filter((p) => typeof p === 'string' && p.length > 0).join(': ') || 'failed';
}
