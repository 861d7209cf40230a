import { hostname as osHostname } from 'node:os';
import { BroadcastChannel, isMainThread } from 'node:worker_threads';
import pino, { type Logger } from 'pino';
import type { LogConfig } from '../config/types';
import { bindingsOf } from './bindings';
import { directRecord } from './direct-record';
import { FileTransport, isRegularFile } from './file-transport';
import { deliverForwarded, forwardTransport } from './forward';
import { formatMessage } from './line-format';
import { frame, type FrameOptions } from './syslog-format';
import { SyslogSocketTransport } from './syslog-socket';
import { SinkTransport, StreamTransport, type Transport } from './transport';
import { UdpTransport } from './udp';

/** Where formatted lines go; tests pass their own to read what an operator would read. */
export type LineSink = (line: string, level: number) => void;

export interface LoggerOptions {
  readonly identity: string;
  readonly log: LogConfig;
  readonly pid?: number;
  /** Overrides the configured destination: every line (`tag[pid]: message`) goes here. */
  readonly sink?: LineSink;
  /** Overrides the configured destination (a worker thread's forwardTransport, say). */
  readonly transport?: Transport;
  /** For RFC 5424 and for RFC 3164 over UDP; the machine's name by default. */
  readonly hostname?: string;
  /** The clock for syslog timestamps. */
  readonly now?: () => Date;
  /** How often lost lines are reported; 60 s. 0 = only when reportLost() is called. */
  readonly reportIntervalMs?: number;
  /**
   * Where the loss report also goes when the destination is syslog or udp (whose loss it
   * reports); stderr, asynchronously, by default.
   */
  readonly fallback?: LineSink;
}

export interface LogStats {
  /** Lines dropped since the start: no socket, a dead collector, a full buffer. */
  readonly lost: number;
}

export interface LogHandle {
  readonly log: Logger;
  /** The current transport (reopen() replaces it). */
  readonly transport: Transport;
  stats(): LogStats;
  /** Writes `log lines lost: N` if any were lost since the last report (the timer calls it every minute). */
  reportLost(): void;
  /**
   * SIGHUP: applies a new level at once, to every child logger too, and, when the tag,
   * destination or framing changed, opens the new transport and closes the old one.
   */
  reopen(identity: string, log: LogConfig): void;
  /** Stops the report timer and closes the transport's socket. */
  close(): Promise<void>;
}

export const REPORT_INTERVAL_MS = 60_000;
/** The BroadcastChannel on which worker threads hand syslog lines to the main thread. */
export const LOG_CHANNEL = 'r2d2-log';
/** pino's number for warn. */
const WARN = 40;

/**
 * The pino root logger, its transport, and the loss report. Records become r2d2's line
 * (line-format.ts); the configured destination decides where it goes. Session loggers are
 * children with `{ session }` bound. Common calls are formatted straight from their arguments
 * in pino's logMethod hook (direct-record.ts), in the thread that logs; the rest go through
 * pino's JSON and the destination below, to the same line. Every transport returns at once,
 * whatever the far side does.
 */
export function openLog(options: LoggerOptions): LogHandle {
  const pid = options.pid ?? process.pid;
  let settings: LogSettings = { identity: options.identity, log: options.log };
  let prefix = `${settings.identity}[${pid}]: `;
  // A sink or a transport handed in stays for the logger's life; the configured one is reopened by reopen().
  const ownDestination = options.sink === undefined && options.transport === undefined;
  let transport = options.transport ?? (options.sink !== undefined ? new SinkTransport(prefix, options.sink) : openTransport(options, pid));
  /** Lines lost by transports closed at a reopen. */
  let lostBefore = 0;
  const destination = {
    write(json: string): void {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(json) as Record<string, unknown>;
      } catch {
        return transport.losses.lose('unreadable record');
      }
      const level = typeof record['level'] === 'number' ? record['level'] : 30;
      transport.send(formatMessage(record), level);
    },
  };
  const log = pino(
    {
      level: options.log.level,
      base: undefined,
      timestamp: false,
      serializers: { err: pino.stdSerializers.err },
      hooks: {
        // The common calls are formatted here, once, from their arguments: pino's JSON line and
        // its parse (destination.write, kept for the rest) cost more than the line itself.
        logMethod(args, method, level) {
          const record = directRecord(args, level, bindingsOf(this));
          if (record === undefined) return method.apply(this, args);
          transport.send(formatMessage(record), level);
        },
      },
    },
    destination,
  );

  // A loss report sent through a dead syslog socket or collector is lost too: also say it on stderr.
  const direct = (): boolean => ownDestination && (settings.log.destination === 'syslog' || settings.log.destination === 'udp');
  let stderr: StreamTransport | undefined;
  const fallback: LineSink = (line) => {
    if (options.fallback !== undefined) return options.fallback(line, WARN);
    if (!direct()) return;
    stderr ??= new StreamTransport('', process.stderr);
    stderr.send(line, WARN);
  };
  const reportLost = (): void => {
    const report = transport.losses.take();
    if (report === undefined) return;
    const message = formatMessage({ msg: 'log lines lost', lost: report.lost, reason: report.reason });
    const before = transport.losses.total;
    transport.send(message, WARN);
    // The report itself dropped (the far side is still down): do not report that next minute.
    if (transport.losses.total > before) transport.losses.take();
    fallback(prefix + message, WARN);
  };
  // The syslog socket lives in the main thread; worker threads' loggers post their lines here,
  // and it hands them to whatever transport is current.
  let hub: BroadcastChannel | undefined;
  const openHub = (): void => {
    if (hub !== undefined || !ownDestination || settings.log.destination !== 'syslog' || !isMainThread) return;
    hub = new BroadcastChannel(LOG_CHANNEL);
    hub.onmessage = (event: unknown) => {
      deliverForwarded(transport, (event as { data?: unknown }).data);
    };
    hub.unref();
  };
  openHub();
  const interval = options.reportIntervalMs ?? REPORT_INTERVAL_MS;
  const timer = interval > 0 ? setInterval(reportLost, interval) : undefined;
  timer?.unref();

  return {
    log,
    get transport() {
      return transport;
    },
    stats: () => ({ lost: lostBefore + transport.losses.total }),
    reportLost,
    reopen(identity: string, next: LogConfig) {
      // Children (session loggers) inherit the root's level methods: they follow at once.
      log.level = next.level;
      const wanted: LogSettings = { identity, log: next };
      if (!ownDestination || sameDestination(settings, wanted)) return;
      let opened: Transport;
      try {
        opened = openTransport({ ...options, identity, log: next }, pid);
      } catch (error) {
        log.error({ reason: (error as Error).message }, 'log destination not changed');
        return;
      }
      reportLost();
      const old = transport;
      lostBefore += old.losses.total;
      transport = opened;
      settings = wanted;
      prefix = `${identity}[${pid}]: `;
      openHub();
      void old.close();
    },
    async close() {
      if (timer !== undefined) clearInterval(timer);
      hub?.close();
      reportLost();
      await transport.close();
      await stderr?.close();
    },
  };
}

interface LogSettings {
  readonly identity: string;
  readonly log: LogConfig;
}

/** Everything but the level, which needs no new transport. */
function sameDestination(a: LogSettings, b: LogSettings): boolean {
  const { level: _a, ...restA } = a.log;
  const { level: _b, ...restB } = b.log;
  return a.identity === b.identity && JSON.stringify(restA) === JSON.stringify(restB);
}

/** The pino root logger alone (its transport lives as long as the process). */
export function createLogger(options: LoggerOptions): Logger {
  return openLog(options).log;
}

/** The transport the config names (what openLog uses when given no sink or transport). */
export function openTransport(options: LoggerOptions, pid: number): Transport {
  const { log } = options;
  const prefix = `${options.identity}[${pid}]: `;
  const now = options.now ?? (() => new Date());
  const framing = (hostname: string | undefined): ((message: string, level: number) => string) => {
    const frameOptions: FrameOptions = { format: log.format, facility: log.facility, tag: options.identity, pid, hostname };
    return (message, level) => frame(frameOptions, message, level, now());
  };
  switch (log.destination) {
    case 'stdout':
      return stdio(prefix, 1, 'stdout', process.stdout);
    case 'stderr':
      return stdio(prefix, 2, 'stderr', process.stderr);
    case 'syslog': {
      if (!isMainThread) {
        // unix-dgram polls on the main thread's loop: a worker posts to the main thread's logger.
        const channel = new BroadcastChannel(LOG_CHANNEL);
        channel.unref();
        const forward = forwardTransport(channel);
        return { losses: forward.losses, send: forward.send, close: () => forward.close().then(() => channel.close()) };
      }
      // syslog(3) sends no host name to the local socket; RFC 5424 has a field for it.
      return new SyslogSocketTransport(log.syslogSocket, framing(log.format === 'rfc5424' ? (options.hostname ?? osHostname()) : undefined));
    }
    case 'udp': {
      const address = log.udpAddress;
      if (address === undefined) throw new Error('log destination udp needs udp_address');
      return new UdpTransport(address.host, address.port, framing(options.hostname ?? osHostname()));
    }
  }
}

/**
 * A worker thread writes a file it logs to itself; pipes and terminals go through its
 * process.stdout/stderr (the main thread writes them), a turn's lines in one message.
 */
function stdio(prefix: string, fd: number, name: string, stream: NodeJS.WriteStream): Transport {
  if (isMainThread) return new StreamTransport(prefix, stream);
  return isRegularFile(fd) ? new FileTransport(prefix, fd, name) : new StreamTransport(prefix, stream, true);
}
