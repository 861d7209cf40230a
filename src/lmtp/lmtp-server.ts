// The LMTP listener (RFC 2033) of `r2d2 serve`: nodemailer's smtp-server in LMTP mode on the
// sockets the supervisor bound (dups handed to each worker thread), delivering with the deliver
// section's recipient query, quota and maildir rules. RCPT TO looks the recipient up (550 5.1.1
// unknown, 451 4.3.0 database trouble); after DATA each accepted recipient gets its own reply.
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { LMTP_INET, LMTP_UNIX } from '../config/lmtp-schema';
import type { Config, LmtpConfig } from '../config/types';
import { resolveRecipient } from '../deliver/recipient';
import { openRecipientPool, type RecipientPool } from '../deliver/recipient-pool';
import { parseQuotaSpec } from '../maildrop/quota';
import { dataReply, LmtpReply, rcptRefusal } from './replies';
import { deliverTransaction, type Recipient } from './transaction';

export interface LmtpDeps {
  readonly config: Config;
  readonly log: Logger;
  /** Listening sockets handed in (worker threads), by LMTP_INET / LMTP_UNIX; absent: bind them here. */
  readonly listenFds?: ReadonlyMap<string, number>;
  /** Connections to the recipient database (this worker's share). */
  readonly poolSize?: number;
  readonly nextSessionNumber?: () => number;
  readonly worker?: number;
}

export interface LmtpListener {
  readonly name: string;
  /** `127.0.0.1:24` or the socket's path. */
  readonly where: string;
  readonly port: number | undefined;
}

export interface RunningLmtp {
  readonly listeners: readonly LmtpListener[];
  /** SIGHUP: the recipient query, quota and header settings apply to the next transaction. */
  reconfigure(config: Config): void;
  /** Stops accepting; transactions may finish for shutdown_timeout, then connections are closed (421). */
  close(): Promise<void>;
}

interface Settings {
  readonly config: Config;
  readonly lmtp: LmtpConfig;
  readonly pool: RecipientPool;
}

export async function startLmtp(deps: LmtpDeps): Promise<RunningLmtp> {
  const { log } = deps;
  const open = async (config: Config): Promise<Settings> => {
    const lmtp = config.lmtp;
    const deliver = config.deliver;
    if (lmtp === undefined || deliver === undefined) throw new Error('lmtp: the personality has no lmtp or no deliver section');
    return { config, lmtp, pool: await openRecipientPool(deliver.database, deps.poolSize ?? deliver.database.poolSize, log) };
  };
  let settings = await open(deps.config);
  let counter = 0;
  const nextSession = deps.nextSessionNumber ?? (() => ++counter);
  const sessions = new Map<string, Logger>();
  /** Each accepted RCPT's lookup, by the address object smtp-server keeps in the envelope. */
  const accepted = new WeakMap<SMTPServerAddress, Recipient>();
  const logOf = (session: SMTPServerSession): Logger => sessions.get(session.id) ?? log;

  const onRcptTo = (address: SMTPServerAddress, session: SMTPServerSession, done: (err?: Error | null) => void): void => {
    const rcpt = address.address;
    const key = rcpt.toLowerCase();
    // smtp-server keeps one entry per address (case-insensitively); LMTP owes a reply per
    // accepted RCPT, so a repeat is refused and the client sends it in another transaction.
    if (session.envelope.rcptTo.some((a) => a.address.toLowerCase() === key)) {
      done(new LmtpReply(452, `<${rcpt}> is a recipient of this transaction already: send it in another one`));
      return;
    }
    const { config, pool } = settings;
    const deliver = config.deliver;
    if (deliver === undefined) return done(rcptRefusal(rcpt, undefined));
    resolveRecipient(rcpt, deliver, config.maildirRoot, pool.run).then(
      (found) => {
        const configured = deliver.quota === undefined ? undefined : parseQuotaSpec(deliver.quota);
        accepted.set(address, { address: rcpt, maildir: found.maildir, quota: found.quota ?? configured });
        done();
      },
      (error: unknown) => {
        logOf(session).info({ rcpt, reason: (error as Error).message }, 'lmtp: recipient refused');
        done(rcptRefusal(rcpt, error));
      },
    );
  };

  const onData = (stream: SMTPServerDataStream, session: SMTPServerSession, done: (err: Error | null, replies?: Array<string | Error>) => void): void => {
    const { config, lmtp } = settings;
    const deliver = config.deliver;
    const envelope = session.envelope;
    const recipients = envelope.rcptTo.map((a) => accepted.get(a));
    const sender = envelope.mailFrom === false ? '' : envelope.mailFrom.address;
    const sessionLog = logOf(session);
    if (deliver === undefined || recipients.some((r) => r === undefined)) {
      stream.resume();
      done(null, envelope.rcptTo.map((a) => rcptRefusal(a.address, undefined)));
      return;
    }
    const settled = recipients as Recipient[];
    deliverTransaction(stream, sender, settled, {
      maildirRoot: config.maildirRoot,
      createMaildir: deliver.createMaildir,
      overQuota: deliver.overQuota,
      deliveredTo: lmtp.deliveredTo,
      returnPath: lmtp.returnPath,
      storeCrlf: deliver.storeCrlf,
      blockingFileIo: config.blockingFileIo,
    }).then(
      (result) => {
        if (!result.complete) sessionLog.info({ received: result.received }, 'lmtp: message not received in full (the client went away): nothing delivered');
        const replies = settled.map((r, i) => {
          const outcome = result.outcomes[i] ?? { kind: 'oversized' as const };
          if (result.complete) {
            if (outcome.kind === 'delivered') sessionLog.info({ rcpt: r.address, file: outcome.file, size: outcome.size, linked: outcome.linked }, 'lmtp: delivered');
            else if (outcome.kind === 'oversized') sessionLog.info({ rcpt: r.address, received: result.received }, 'lmtp: message over max_message_size: refused');
            else sessionLog.warn({ rcpt: r.address, code: outcome.error.exitCode, reason: outcome.error.message }, 'lmtp: not delivered');
          }
          return dataReply(r.address, outcome, lmtp.maxMessageSize);
        });
        done(null, replies);
      },
      (error: unknown) => {
        sessionLog.error({ err: error }, 'lmtp: delivery failed');
        done(null, settled.map((r) => new LmtpReply(451, `<${r.address}> temporary failure, try again later`)));
      },
    );
  };

  const makeServer = (): SMTPServer =>
    new SMTPServer({
      lmtp: true,
      name: hostname(),
      banner: 'r2d2',
      size: settings.lmtp.maxMessageSize,
      rejectOversized: true,
      maxRecipients: settings.lmtp.maxRecipients,
      socketTimeout: settings.lmtp.idleTimeoutMs,
      closeTimeout: Math.max(1, deps.config.shutdownTimeoutMs),
      hideENHANCEDSTATUSCODES: false,
      hideSMTPUTF8: true,
      hideDSN: true,
      hideREQUIRETLS: true,
      hideSTARTTLS: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      authOptional: true,
      disableReverseLookup: true,
      logger: false,
      onConnect: (session, done) => {
        const number = nextSession();
        const sessionLog = log.child({ session: number });
        sessions.set(session.id, sessionLog);
        sessionLog.info({ peer: session.remoteAddress || 'local', worker: deps.worker }, 'lmtp: connected');
        done();
      },
      onRcptTo,
      onData,
      onClose: (session) => {
        logOf(session).debug('lmtp: disconnected');
        sessions.delete(session.id);
      },
    });

  const servers: SMTPServer[] = [];
  const listeners: LmtpListener[] = [];
  const lmtp = settings.lmtp;
  const wanted: Array<{ name: string; bind: { host: string; port: number } | { path: string } }> = [];
  if (lmtp.inet !== undefined) wanted.push({ name: LMTP_INET, bind: { host: lmtp.inet.address, port: lmtp.inet.port } });
  if (lmtp.socket !== undefined) wanted.push({ name: LMTP_UNIX, bind: { path: lmtp.socket.path } });
  try {
    for (const { name, bind } of wanted) {
      const server = makeServer();
      server.on('error', (error) => log.warn({ reason: error.message, listener: name }, 'lmtp: connection error'));
      const fd = deps.listenFds?.get(name);
      await new Promise<void>((resolve, reject) => {
        server.server.once('error', reject);
        server.listen(fd !== undefined ? { fd } : 'path' in bind ? { path: bind.path } : { ...bind, backlog: 511 }, () => {
          server.server.off('error', reject);
          resolve();
        });
      });
      servers.push(server);
      const address = server.server.address();
      const port = typeof address === 'object' && address !== null ? address.port : undefined;
      listeners.push({ name, where: 'path' in bind ? bind.path : `${bind.host}:${port ?? bind.port}`, port });
    }
  } catch (error) {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    await settings.pool.close().catch(() => undefined);
    throw error;
  }

  return {
    listeners,
    reconfigure(next: Config) {
      const before = settings;
      const database = (c: Config): string => JSON.stringify(c.deliver?.database);
      if (next.lmtp === undefined || next.deliver === undefined) return; // the listener stays until a restart
      if (database(next) === database(before.config)) {
        settings = { config: next, lmtp: next.lmtp, pool: before.pool };
        return;
      }
      open(next).then(
        (fresh) => {
          settings = fresh;
          // Lookups in flight finish on the old pool; it closes once they had time to.
          setTimeout(() => void before.pool.close().catch(() => undefined), 60_000).unref();
        },
        (error: unknown) => log.error({ reason: (error as Error).message }, 'SIGHUP: lmtp keeps its recipient database'),
      );
    },
    async close() {
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      await settings.pool.close().catch(() => undefined);
    },
  };
}
