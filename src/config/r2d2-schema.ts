// What an r2d2 personality's c11n may say (snake_case keys), and how it becomes a Config.
// To add a key: declare it in the section below, then map it in toConfig (and types.ts).
import path from 'node:path';
import { C11nError } from './errors';
import { absolutePath, bool, here, int, list, oneOf, readDocument, section, str, titled, where } from './schema';
import type { Section } from './ast';
import { controlSocketKey, controlSocketPath } from './control-socket';
import { deliverSchema, toDeliverConfig } from './deliver-schema';
import { lmtpSchema, toLmtpConfig } from './lmtp-schema';
import { checkDatabaseHost, databaseHosts } from './database-hosts';
import { maildropLockSchema, toMaildropLockConfig } from './maildrop-lock-schema';
import { queryFormatCheck } from './query-format-check';
import type { Config, DatabaseConfig, ListenerConfig, TlsConfig } from './types';
import { logSchema, toLog } from './log-schema';
import { oauth2Schema, toOAuth2Config } from './oauth2-schema';
import { metricsSchema, toMetricsConfig } from './metrics-schema';
import { checkRehashQueryFormat, passwordsSchema, toPasswordsConfig } from './passwords-schema';
import { checkLastLoginQueryFormat, policySchema, toPolicyConfig } from './policy-schema';
import { readSecretFile } from './secret-file';
import { listenProxyKeys, toListenerProxy, trustedProxiesKey } from './proxy-schema';
import { authHttpSchema, toAuthHttp } from './auth-http-schema';

/** setTimeout's ceiling (2^31 - 1 ms), in whole seconds: longer timers would fire at once. */
const MAX_TIMER_SECONDS = 2_147_483;

const port = () => int({ min: 1, max: 65535 });

const notEmpty = (s: string): string | undefined => (s === '' ? 'must not be empty' : undefined);

/** Every `%` starts one of %u %l %d %p %r %% (the substitutions src/accounts binds). */
export const checkQueryFormat = queryFormatCheck('uldpr', 'use %u %l %d %p %r or %%');

export const sniSchema = section({
  certificate: str().check(notEmpty).required(),
  private_key: str().check(notEmpty).required(),
  passphrase: str(),
});

export const listenSchema = section({
  address: str().check(notEmpty).default('0.0.0.0'),
  // 0 asks the system for any free port: for tests (test/helpers/test-server.ts), not production.
  port: int({ min: 0, max: 65535 }).required(),
  tls: oneOf(['none', 'stls', 'implicit']).default('none'),
  certificate: str().check(notEmpty),
  private_key: str().check(notEmpty),
  passphrase: str(),
  min_tls_version: oneOf(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
  ciphers: str().check(notEmpty),
  sni: titled(sniSchema),
  handshake_timeout: int({ min: 1, max: MAX_TIMER_SECONDS }).default(30),
  plaintext_auth: oneOf(['never', 'always']),
  trust_loopback: bool().default(false),
  ...listenProxyKeys,
});

export const databaseSchema = section({
  driver: oneOf(['mysql', 'sqlite']).default('mysql'),
  host: str().check(notEmpty).default('127.0.0.1'),
  port: port().default(3306),
  // Several servers, tried in order (a Galera cluster, a primary then its replica): "db1:3306", "db2".
  hosts: list(str().check(checkDatabaseHost)),
  socket: str().check(notEmpty),
  user: str().default('root'),
  password: str(),
  // A file holding the password (one line; the trailing newline is dropped): keeps it out of the
  // environment. Read by the supervisor; relative paths are against the personality folder.
  password_file: str().check(notEmpty),
  database: str().default(''),
  pool_size: int({ min: 1, max: 1000 }).default(10),
  connect_timeout: int({ min: 1, max: MAX_TIMER_SECONDS }).default(5),
  // A query unanswered this long fails (a hung or partitioned database): the login gets [SYS/TEMP].
  query_timeout: int({ min: 1, max: MAX_TIMER_SECONDS }).default(10),
  file: str().check(notEmpty),
});

export const limitsSchema = section({
  max_bad_commands: int({ min: 1 }).default(10),
  max_connections: int({ min: 1 }).default(10000),
  max_connections_per_address: int({ min: 1 }).default(50),
  auth_failure_delay_ms: int({ min: 0, max: 60_000 }).default(1000),
  auth_penalty_max_ms: int({ min: 0, max: 300_000 }).default(15_000),
  login_timeout: int({ min: 1, max: MAX_TIMER_SECONDS }).default(60),
});

/** `host:port` or `[v6]:port` (a collector's UDP address); undefined when good. */
export const r2d2Schema = section({
  identity: str()
    .check((s) => (/^\S+$/.test(s) ? undefined : `must be one word (a syslog tag), got ${JSON.stringify(s)}`))
    .default('server.pop3.r2d2'),
  listen: titled(listenSchema, { min: 1 }),
  // The default for listeners' (and auth_http's) trusted_proxies: who may send a PROXY header.
  trusted_proxies: trustedProxiesKey(),
  // 48 random octets (openssl rand 48) that encrypt TLS session tickets: hosts sharing it resume each other's sessions.
  session_ticket_key_file: str().check(notEmpty),
  threads: int({ min: 0, max: 1024 }).default(0),
  // Sessions run as this user and group once the ports are bound (names or numbers).
  uid: str().check(notEmpty),
  gid: str().check(notEmpty),
  // ServerKit's rule: started as root without uid, r2d2 refuses to run sessions unless this is set.
  executes_as_root: bool().default(false),
  // SIGTERM: sessions may finish for this long (seconds); the rest are closed without their deletions.
  shutdown_timeout: int({ min: 0, max: MAX_TIMER_SECONDS }).default(30),
  // Small file operations (lock files, directory listings, messages up to sync_read_max octets) use
  // blocking calls: much cheaper on a local disk. Set no for maildirs on network storage (NFS).
  blocking_file_io: bool().default(true),
  sync_read_max: int({ min: 0, max: 64 * 1024 * 1024 }).default(128 * 1024),
  idle_timeout: int({ min: 1, max: MAX_TIMER_SECONDS }).default(600),
  maildir_root: str().check(absolutePath),
  maildrop_query_format_string: str().check(checkQueryFormat).required(),
  passwords: passwordsSchema,
  rehash_query_format_string: str().check(checkRehashQueryFormat),
  policy: policySchema,
  last_login_query_format_string: str().check(checkLastLoginQueryFormat),
  accounts_database: str(),
  database: titled(databaseSchema, { min: 1 }),
  limits: limitsSchema,
  log: logSchema,
  deliver: deliverSchema,
  oauth2: oauth2Schema,
  maildrop_lock: maildropLockSchema,
  auth_http: authHttpSchema,
  metrics: metricsSchema,
  // `r2d2 who`, `kick`, `status`: a unix socket (mode 0600); default /run/r2d2/control when that folder exists.
  control_socket: controlSocketKey,
  lmtp: lmtpSchema,
});

/** The validated c11n, keys as written (snake_case). */
export type R2d2Document = ReturnType<(typeof r2d2Schema)['body']>;
type ListenDoc = R2d2Document['listen'][number];
type DatabaseDoc = R2d2Document['database'][number];

/** Validates the document and builds the (not yet frozen) Config. */
export function toConfig(root: Section, personalityDir: string, cores: number): Config {
  const doc = readDocument(r2d2Schema, root);
  const listeners = doc.listen.map((l) => toListener(l, personalityDir, doc.trusted_proxies));
  checkListenersDistinct(doc.listen);
  const databases = doc.database.map((d) => toDatabase(d, personalityDir));
  const deliver = toDeliverConfig(doc.deliver, where(doc, 'deliver') !== undefined, databases, chooseAccountsDatabase(doc, databases));
  return {
    personalityDir,
    identity: doc.identity,
    listeners,
    trustedProxies: doc.trusted_proxies ?? [],
    sessionTicketKeyFile: doc.session_ticket_key_file === undefined ? undefined : path.resolve(personalityDir, doc.session_ticket_key_file),
    threads: doc.threads === 0 ? Math.max(1, cores) : doc.threads,
    uid: doc.uid,
    gid: doc.gid,
    executesAsRoot: doc.executes_as_root,
    shutdownTimeoutMs: doc.shutdown_timeout * 1000,
    blockingFileIo: doc.blocking_file_io,
    syncReadMax: doc.blocking_file_io ? doc.sync_read_max : 0,
    idleTimeoutMs: doc.idle_timeout * 1000,
    maildirRoot: doc.maildir_root === undefined ? undefined : path.resolve(doc.maildir_root),
    maildropQuery: doc.maildrop_query_format_string,
    passwords: toPasswordsConfig(doc.passwords, doc.maildrop_query_format_string, doc.rehash_query_format_string, {
      maildropQuery: where(doc, 'maildrop_query_format_string'),
      rehashQuery: where(doc, 'rehash_query_format_string'),
      document: here(doc),
    }),
    policy: toPolicyConfig(doc.policy, doc.maildrop_query_format_string, doc.last_login_query_format_string, {
      lastLoginQuery: where(doc, 'last_login_query_format_string'),
      document: here(doc),
    }),
    accountsDatabase: chooseAccountsDatabase(doc, databases),
    databases,
    limits: {
      maxBadCommands: doc.limits.max_bad_commands,
      maxConnections: doc.limits.max_connections,
      maxConnectionsPerAddress: doc.limits.max_connections_per_address,
      authFailureDelayMs: doc.limits.auth_failure_delay_ms,
      authPenaltyMaxMs: doc.limits.auth_penalty_max_ms,
      loginTimeoutMs: doc.limits.login_timeout * 1000,
    },
    log: toLog(doc.log),
    deliver,
    oauth2: toOAuth2Config(doc.oauth2, where(doc, 'oauth2') !== undefined, personalityDir),
    maildropLock: toMaildropLockConfig(doc.maildrop_lock, databases, chooseAccountsDatabase(doc, databases)),
    authHttp: toAuthHttp(doc.auth_http, where(doc, 'auth_http') !== undefined, doc.trusted_proxies, listeners),
    metrics: toMetricsConfig(doc.metrics, where(doc, 'metrics') !== undefined, listeners),
    controlSocket: controlSocketPath(doc.control_socket),
    lmtp: toLmtpConfig(doc.lmtp, where(doc, 'lmtp') !== undefined, deliver, doc.listen.map((l) => l.title)),
  };
}

function toListener({ title, value }: ListenDoc, personalityDir: string, trustedProxies: readonly string[] | undefined): ListenerConfig {
  const file = (p: string): string => path.resolve(personalityDir, p);
  let tlsConfig: TlsConfig | undefined;
  if (value.tls !== 'none') {
    if (value.certificate === undefined || value.private_key === undefined) {
      throw C11nError.at(here(value, 'tls'), `listen "${title}" has tls = ${value.tls}: set certificate and private_key`);
    }
    tlsConfig = {
      certificate: file(value.certificate),
      privateKey: file(value.private_key),
      passphrase: value.passphrase,
      minVersion: value.min_tls_version,
      ciphers: value.ciphers,
      sni: value.sni.map(({ title: serverName, value: sni }) => ({
        serverName,
        certificate: file(sni.certificate),
        privateKey: file(sni.private_key),
        passphrase: sni.passphrase,
      })),
      handshakeTimeoutMs: value.handshake_timeout * 1000,
    };
  }
  return {
    name: title,
    address: value.address,
    port: value.port,
    tls: value.tls,
    tlsConfig,
    // RFC 2595 §2.3 and RFC 8314: no passwords in the clear where TLS is on offer.
    plaintextAuth: value.plaintext_auth ?? (value.tls === 'stls' ? 'never' : 'always'),
    trustLoopback: value.trust_loopback,
    ...toListenerProxy(title, value, trustedProxies),
  };
}

function checkListenersDistinct(listen: readonly ListenDoc[]): void {
  const seen = new Map<string, string>();
  for (const { title, value } of listen) {
    if (value.port === 0) continue;
    const endpoint = `${value.address}:${value.port}`;
    const other = seen.get(endpoint);
    if (other !== undefined) {
      throw C11nError.at(here(value), `listen "${title}" uses ${endpoint}, already used by listen "${other}"`);
    }
    seen.set(endpoint, title);
  }
}

function toDatabase({ title, value }: DatabaseDoc, personalityDir: string): DatabaseConfig {
  if (value.driver === 'sqlite' && value.file === undefined) {
    throw C11nError.at(here(value), `missing required "file" in section "database ${title}" (driver sqlite)`);
  }
  if (value.driver === 'sqlite' && value.hosts !== undefined) {
    throw C11nError.at(here(value, 'hosts'), `"hosts" is for driver mysql (this database's driver is sqlite)`);
  }
  if (value.driver !== 'sqlite' && value.file !== undefined) {
    throw C11nError.at(here(value, 'file'), `"file" is only for driver sqlite (this database's driver is ${value.driver})`);
  }
  const hosts = databaseHosts(value, title);
  const [first] = hosts;
  return {
    name: title,
    driver: value.driver,
    host: first?.host ?? value.host,
    port: first?.port ?? value.port,
    hosts,
    socket: value.socket,
    user: value.user,
    password: databasePassword(value, personalityDir),
    database: value.database,
    poolSize: value.pool_size,
    connectTimeoutMs: value.connect_timeout * 1000,
    queryTimeoutMs: value.query_timeout * 1000,
    file: value.file === undefined ? undefined : path.resolve(personalityDir, value.file),
  };
}

function databasePassword(value: DatabaseDoc['value'], personalityDir: string): string {
  if (value.password_file === undefined) return value.password ?? '';
  if (value.password !== undefined) {
    throw C11nError.at(here(value, 'password_file'), '"password" and "password_file" are the same setting: keep one');
  }
  const reason = readSecretFile(path.resolve(personalityDir, value.password_file));
  if (reason.error !== undefined) throw C11nError.at(here(value, 'password_file'), `password_file ${JSON.stringify(value.password_file)}: ${reason.error}`);
  return reason.secret;
}

function chooseAccountsDatabase(doc: R2d2Document, databases: readonly DatabaseConfig[]): DatabaseConfig {
  const names = databases.map((d) => d.name).join(', ');
  const chosen = doc.accounts_database;
  if (chosen === undefined) {
    const [only, second] = databases;
    if (only !== undefined && second === undefined) return only;
    const at = here(doc.database[1]?.value ?? doc);
    throw C11nError.at(at, `several database sections (${names}): set accounts_database to one of them`);
  }
  const found = databases.find((d) => d.name === chosen);
  if (found === undefined) {
    throw C11nError.at(here(doc, 'accounts_database'), `"accounts_database" names no database section: ${JSON.stringify(chosen)} (known: ${names})`);
  }
  return found;
}
