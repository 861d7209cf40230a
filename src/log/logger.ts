import pino, { type Logger } from 'pino';
import type { LogConfig } from '../config/types';
import { formatRecord } from './line-format';

/** Where formatted lines go; tests pass their own to read what an operator would read. */
export type LineSink = (line: string, level: number) => void;

export interface LoggerOptions {
  readonly identity: string;
  readonly log: LogConfig;
  readonly pid?: number;
  readonly sink?: LineSink;
}

/**
 * The pino root logger. Records are turned into r2d2's syslog-style line; the destination
 * decides where the line goes. Session loggers are children with `{ session }` bound.
 */
export function createLogger(options: LoggerOptions): Logger {
  const pid = options.pid ?? process.pid;
  const sink = options.sink ?? defaultSink(options.log.destination);
  const destination = {
    write(json: string): void {
      const record = JSON.parse(json) as Record<string, unknown>;
      const level = typeof record['level'] === 'number' ? record['level'] : 30;
      sink(formatRecord(options.identity, pid, record), level);
    },
  };
  return pino(
    {
      level: options.log.level,
      base: undefined,
      timestamp: false,
      serializers: { err: pino.stdSerializers.err },
    },
    destination,
  );
}

function defaultSink(destination: LogConfig['destination']): LineSink {
  const stream = destination === 'stderr' ? process.stderr : process.stdout;
  return (line) => {
    stream.write(line + '\n');
  };
}
