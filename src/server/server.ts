import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Accounts } from '../accounts/accounts';
import type { Config, ListenerConfig } from '../config/types';
import type { LockLiveness } from '../maildrop/lock';
import { Pop3Session } from '../pop3/session';
import { statusLine } from '../pop3/replies';
import { Connection } from './connection';

export interface ServerDeps {
  readonly config: Config;
  readonly accounts: Accounts;
  readonly log: Logger;
  readonly implementation?: string;
  readonly lockLiveness?: LockLiveness;
  /** Numbers sessions across the whole server ([N] in the log); one counter per process by default. */
  readonly nextSessionNumber?: () => number;
}

export interface BoundListener {
  readonly name: string;
  readonly address: string;
  readonly port: number;
}

export interface RunningServer {
  readonly listeners: readonly BoundListener[];
  /** Sessions in progress. */
  readonly sessions: number;
  /** Stops accepting, ends sessions without applying their deletions, closes the accounts store. */
  close(): Promise<void>;
}

/** Binds every configured listener and serves POP3 on them. */
export async function startServer(deps: ServerDeps): Promise<RunningServer> {
  const { config, log } = deps;
  const connections = new Set<Connection>();
  const pending = new Set<Promise<void>>();
  let counter = 0;
  const nextSession = deps.nextSessionNumber ?? (() => ++counter);
  const implementation = deps.implementation ?? 'r2d2';

  const accept = (listener: ListenerConfig, socket: Socket): void => {
    if (connections.size >= config.limits.maxConnections) {
      socket.end(statusLine(false, '[SYS/TEMP] too many connections, try again later'));
      log.warn({ peer: socket.remoteAddress, listener: listener.name }, 'connection refused: max_connections reached');
      return;
    }
    const session = nextSession();
    const peer = socket.remoteAddress ?? 'unknown';
    const sessionLog = log.child({ session });
    sessionLog.info({ peer, listener: listener.name }, 'connected');
    const pop3 = new Pop3Session(
      { accounts: deps.accounts, peer, maildirRoot: config.maildirRoot, implementation, log: sessionLog, lockLiveness: deps.lockLiveness },
      config.limits.maxBadCommands,
    );
    const connection = new Connection(socket, pop3, sessionLog, config.idleTimeoutMs);
    connections.add(connection);
    const ended = connection.start().finally(() => {
      connections.delete(connection);
      pending.delete(ended);
    });
    pending.add(ended);
  };

  const servers: Server[] = [];
  const bound: BoundListener[] = [];
  try {
    for (const listener of config.listeners) {
      const server = createServer({ allowHalfOpen: true }, (socket) => accept(listener, socket));
      await listen(server, listener);
      servers.push(server);
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : listener.port;
      bound.push({ name: listener.name, address: listener.address, port });
      log.info({ listener: listener.name, tls: listener.tls }, `listening on ${listener.address}:${port}`);
    }
  } catch (error) {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    throw error;
  }

  return {
    listeners: bound,
    get sessions() {
      return connections.size;
    },
    async close() {
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
      for (const connection of connections) connection.shutdown();
      await Promise.all(pending);
      await deps.accounts.close();
    },
  };
}

function listen(server: Server, listener: ListenerConfig): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: listener.address, port: listener.port, backlog: 511 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
