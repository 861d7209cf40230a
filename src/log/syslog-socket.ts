import { constants } from 'node:os';
import { isMainThread } from 'node:worker_threads';
import { LossCounter, type Transport } from './transport';

/**
 * Datagrams to the local syslog socket (`/dev/log`: rsyslog's imuxsock, syslog-ng, journald).
 *
 * Node has no unix datagram sockets in core, so this uses `unix-dgram` (Ben Noordhuis; a few
 * hundred lines of C++ over socket/connect/sendmsg). Its socket is non-blocking and its send
 * does not queue: EAGAIN/ENOBUFS ("congestion", the daemon is not reading) come back at once,
 * and the line is dropped and counted. A missing socket or a restarted daemon (ECONNREFUSED)
 * drops lines too; the socket is reopened on the next line, at most once a second.
 *
 * unix-dgram is not context-aware and polls on the main thread's loop: use this transport in
 * the main thread only; worker threads' loggers forward their lines to it (logger.ts, forward.ts).
 */
interface UnixDgramSocket {
  on(event: 'error', listener: (error: Error) => void): this;
  connect(path: string): void;
  send(data: Buffer, callback: (error?: Error & { code?: unknown }) => void): void;
  close(): void;
}

interface UnixDgramModule {
  createSocket(type: 'unix_dgram'): UnixDgramSocket;
}

let unixDgram: UnixDgramModule | undefined;

function loadUnixDgram(): UnixDgramModule {
  // Loaded on first use: a server that logs to stdout or UDP never needs the native addon.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  unixDgram ??= require('unix-dgram') as UnixDgramModule;
  return unixDgram;
}

/** How long a failed socket waits before the next try (lines meanwhile are counted as lost). */
export const REOPEN_DELAY_MS = 1000;
/** An idle socket is closed after this long, so it never keeps a finished process alive. */
export const IDLE_CLOSE_MS = 2000;

const ERRNO_NAMES = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [-n, name]));

/** unix-dgram reports errors as negative errno numbers; name them. */
function codeOf(error: Error & { code?: unknown }): string {
  if (error.message === 'congestion') return 'EAGAIN';
  return typeof error.code === 'number' ? (ERRNO_NAMES.get(error.code) ?? String(error.code)) : String(error.code ?? error.message);
}

/** The socket has no reader behind it any more: reopen rather than count forever. */
const STALE = new Set(['ECONNREFUSED', 'ENOTCONN', 'ENOENT', 'EDESTADDRREQ']);

export class SyslogSocketTransport implements Transport {
  readonly losses = new LossCounter();
  private socket: UnixDgramSocket | undefined;
  private retryAt = 0;
  private lastError = '';
  private closed = false;
  private readonly idle: NodeJS.Timeout;

  constructor(
    private readonly path: string,
    private readonly frame: (message: string, level: number) => string,
    private readonly now: () => number = Date.now,
  ) {
    if (!isMainThread) {
      throw new Error('log destination syslog: the syslog socket is opened in the main thread; worker threads forward to it (src/log/forward.ts)');
    }
    loadUnixDgram();
    this.idle = setTimeout(() => this.drop(), IDLE_CLOSE_MS);
    this.idle.unref();
  }

  send(message: string, level: number): void {
    if (this.closed) return this.losses.lose('log closed');
    const data = Buffer.from(this.frame(message, level));
    const failure = this.trySend(data);
    if (failure === undefined) return;
    if (STALE.has(failure)) {
      // The daemon may have been restarted (a new socket at the same path): one fresh try.
      this.drop();
      if (this.now() >= this.retryAt && this.trySend(data) === undefined) return;
      this.retryAt = this.now() + REOPEN_DELAY_MS;
    }
    this.losses.lose(`syslog socket ${this.path}: ${this.lastError}`);
  }

  /** undefined when sent, else the error code (already in lastError). */
  private trySend(data: Buffer): string | undefined {
    const socket = this.socket ?? this.open();
    if (socket === undefined) return this.lastError;
    let failure: string | undefined;
    socket.send(data, (error) => {
      if (error !== undefined) failure = codeOf(error);
    });
    if (failure !== undefined) this.lastError = failure;
    else this.idle.refresh();
    return failure;
  }

  private open(): UnixDgramSocket | undefined {
    if (this.now() < this.retryAt) return undefined;
    let socket: UnixDgramSocket;
    try {
      socket = loadUnixDgram().createSocket('unix_dgram');
    } catch (error) {
      this.lastError = codeOf(error as Error);
      this.retryAt = this.now() + REOPEN_DELAY_MS;
      return undefined;
    }
    let failure: string | undefined;
    const onError = (error: Error): void => {
      failure = codeOf(error);
    };
    socket.on('error', onError);
    socket.connect(this.path); // reports through 'error', synchronously
    if (failure !== undefined) {
      this.lastError = failure;
      this.retryAt = this.now() + REOPEN_DELAY_MS;
      socket.close();
      return undefined;
    }
    this.socket = socket;
    this.idle.refresh();
    return socket;
  }

  private drop(): void {
    const socket = this.socket;
    this.socket = undefined;
    if (socket === undefined) return;
    try {
      socket.close();
    } catch {
      // already closed
    }
  }

  close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.idle);
    this.drop();
    return Promise.resolve();
  }
}
