import { LossCounter, type Transport } from './transport';

/**
 * Worker threads and the syslog socket: the socket lives in the main thread (./syslog-socket.ts).
 * openLog does this by itself for destination syslog: a worker's logger posts each message on the
 * BroadcastChannel LOG_CHANNEL, and the main thread's logger sends it on (one socket, one loss
 * counter per process). These helpers also work over any MessagePort.
 */
export interface ForwardedLine {
  readonly r2d2Log: string;
  readonly level: number;
}

export interface MessageTarget {
  postMessage(value: unknown): void;
}

export function isForwardedLine(value: unknown): value is ForwardedLine {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { r2d2Log?: unknown }).r2d2Log === 'string' &&
    typeof (value as { level?: unknown }).level === 'number'
  );
}

/** A worker's transport: posts each message to the main thread (postMessage never blocks). */
export function forwardTransport(target: MessageTarget): Transport {
  const losses = new LossCounter();
  return {
    losses,
    send(message, level) {
      try {
        const line: ForwardedLine = { r2d2Log: message, level };
        target.postMessage(line);
      } catch (error) {
        losses.lose(`forward to main thread: ${error instanceof Error ? error.message : String(error)}`);
      }
    },
    close: () => Promise.resolve(),
  };
}

/** In the main thread: true (and sent) if `value` was a worker's log line. */
export function deliverForwarded(transport: Transport, value: unknown): boolean {
  if (!isForwardedLine(value)) return false;
  transport.send(value.r2d2Log, value.level);
  return true;
}
