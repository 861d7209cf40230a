import { LossCounter, type Transport } from './transport';

/**
 * Worker threads and the syslog socket: the socket lives in the main thread (./syslog-socket.ts).
 * openLog does this by itself for destination syslog: a worker's logger posts its messages on the
 * BroadcastChannel LOG_CHANNEL, and the main thread's logger sends them on (one socket, one loss
 * counter per process). These helpers also work over any MessagePort.
 */
export interface ForwardedLine {
  readonly r2d2Log: string;
  readonly level: number;
}

/** The lines of one event-loop turn of a worker, in one message (a message per line costs more than the line). */
export interface ForwardedLines {
  readonly r2d2Logs: readonly ForwardedLine[];
}

export interface MessageTarget {
  postMessage(value: unknown): void;
}

function isForwardedLine(value: unknown): value is ForwardedLine {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { r2d2Log?: unknown }).r2d2Log === 'string' &&
    typeof (value as { level?: unknown }).level === 'number'
  );
}

function isForwardedLines(value: unknown): value is ForwardedLines {
  return typeof value === 'object' && value !== null && Array.isArray((value as { r2d2Logs?: unknown }).r2d2Logs);
}

/** A worker's transport: posts each turn's messages to the main thread (postMessage never blocks). */
export function forwardTransport(target: MessageTarget): Transport {
  const losses = new LossCounter();
  let pending: ForwardedLine[] = [];
  const flush = (): void => {
    const lines = pending;
    pending = [];
    if (lines.length === 0) return;
    try {
      const batch: ForwardedLines = { r2d2Logs: lines };
      target.postMessage(batch);
    } catch (error) {
      const reason = `forward to main thread: ${error instanceof Error ? error.message : String(error)}`;
      for (let i = 0; i < lines.length; i++) losses.lose(reason);
    }
  };
  process.on('exit', flush); // best effort: a thread's last turn
  return {
    losses,
    send(message, level) {
      if (pending.length === 0) setImmediate(flush);
      pending.push({ r2d2Log: message, level });
    },
    close: () => {
      process.off('exit', flush);
      return Promise.resolve(flush());
    },
  };
}

/** In the main thread: true (and sent) if `value` was a worker's turn of log lines. */
export function deliverForwarded(transport: Transport, value: unknown): boolean {
  if (!isForwardedLines(value)) return false;
  for (const line of value.r2d2Logs) if (isForwardedLine(line)) transport.send(line.r2d2Log, line.level);
  return true;
}
