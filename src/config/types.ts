// The typed, validated, frozen configuration that every other module receives.
// Read once from a personality's c11n (src/config/load.ts); nothing else reads files or env.

import type { Facility } from './syslog-facility';
import type { SchemeName, SchemeSpec } from './password-schemes';
import type { OAuth2Config } from './oauth2-schema';

export type { IntrospectionConfig, JwksSource, OAuth2Config } from './oauth2-schema';

export type TlsMode = 'none' | 'stls' | 'implicit';

export interface CertificateConfig {
  /** PEM certificate chain, leaf first. */
  readonly certificate: string;
  /** PEM private key. */
  readonly privateKey: string;
  readonly passphrase: string | undefined;
  /**
   * The two files' text, read by the supervisor (server/tls-material.ts) before the Config goes
   * to the engine, which then never opens them; undefined = read the files.
   */
  readonly contents?: { readonly certificate: string; readonly privateKey: string } | undefined;
}

export interface SniCertificateConfig extends CertificateConfig {
  /** The server name it answers: `mail.example.com` or `*.example.com`. */
  readonly serverName: string;
}

export interface TlsConfig extends CertificateConfig {
  readonly minVersion: 'TLSv1.2' | 'TLSv1.3';
  /** OpenSSL cipher list for TLS 1.2; undefined = Node's default. */
  readonly ciphers: string | undefined;
  /** Extra certificates chosen by the client's SNI server name. */
  readonly sni: readonly SniCertificateConfig[];
  /** A handshake that has not finished by then is dropped. */
  readonly handshakeTimeoutMs: number;
  /**
   * Session ticket keys (48 octets, base64) that every worker thread shares, filled in by the
   * supervisor from `session_ticket_key_file` (or made once at start); undefined = one random set per process.
   */
  readonly sessionTicketKeys?: string | undefined;
}

export interface ListenerConfig {
  /** The section title: `listen "pop3" { ... }`. */
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly tls: TlsMode;
  /** Certificates for `stls` and `implicit`; undefined for `none`. */
  readonly tlsConfig: TlsConfig | undefined;
  /** RFC 2595 §2: may USER/PASS run without TLS? Default: never where STLS is offered. */
  readonly plaintextAuth: 'never' | 'always';
  /** Treat loopback clients as secure for plaintext_auth (local tools). */
  readonly trustLoopback: boolean;
  /** A PROXY protocol header (v1 or v2) comes first, from a trusted proxy only (server/proxy-protocol). */
  readonly proxyProtocol: boolean;
  /** Networks (CIDR) allowed to send it: the listener's own list, else the top-level one. */
  readonly trustedProxies: readonly string[];
  /** A trusted proxy that has not sent the whole header by then is dropped. */
  readonly proxyProtocolTimeoutMs: number;
}

export type DatabaseDriver = 'mysql' | 'sqlite';

export interface DatabaseHost {
  readonly host: string;
  readonly port: number;
}

export interface DatabaseConfig {
  /** The section title: `database "accounts" { ... }`. */
  readonly name: string;
  readonly driver: DatabaseDriver;
  /** The first of `hosts` (c11n `host`/`port`, or the first of `hosts = { ... }`). */
  readonly host: string;
  readonly port: number;
  /** Every server, in order: the first that answers is used, the next ones when it does not (accounts/mysql-pool.ts). */
  readonly hosts: readonly DatabaseHost[];
  /** Unix socket path; when set it wins over host/port (mysql2 `socketPath`). */
  readonly socket: string | undefined;
  readonly user: string;
  /** c11n `password`, or the contents of `password_file` (read by the supervisor, sent over IPC). */
  readonly password: string;
  readonly database: string;
  readonly poolSize: number;
  readonly connectTimeoutMs: number;
  /** A query unanswered this long fails (mysql only). */
  readonly queryTimeoutMs: number;
  /** sqlite only: the database file, resolved against the personality folder. */
  readonly file: string | undefined;
}

export interface LimitsConfig {
  /** Dovecot's CLIENT_MAX_BAD_COMMANDS: drop the client after this many bad commands. */
  readonly maxBadCommands: number;
  /** Connections held at once across the whole server; more are refused. */
  readonly maxConnections: number;
  /** Connections held at once from one client address (all workers together). */
  readonly maxConnectionsPerAddress: number;
  /** A failed login waits this long before its -ERR, doubling with repeated failures... */
  readonly authFailureDelayMs: number;
  /** ...up to this. */
  readonly authPenaltyMaxMs: number;
  /** A client must have logged in within this long of connecting (slowloris brake). */
  readonly loginTimeoutMs: number;
}

export type LogDestination = 'stdout' | 'stderr' | 'syslog' | 'udp';
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export type LogFormat = 'rfc3164' | 'rfc5424';
export type LogFacility = Facility;

export interface LogConfig {
  /** stdout/stderr: the plain line; syslog: datagrams to `syslogSocket`; udp: datagrams to `udpAddress`. */
  readonly destination: LogDestination;
  readonly level: LogLevel;
  /** Syslog framing for `syslog` and `udp` (RFC 3164 is what syslog(3) sends). */
  readonly format: LogFormat;
  readonly facility: LogFacility;
  /** The local syslog socket (a unix datagram socket), `/dev/log` by default. */
  readonly syslogSocket: string;
  /** c11n `udp_address` (ServerKit's `libc_syslog_bypass_address`): the collector for `udp`. */
  readonly udpAddress: { readonly host: string; readonly port: number } | undefined;
}

/** The `deliver` section: how `r2d2 deliver --recipient` finds a maildir (src/deliver). */
export interface DeliverConfig {
  /** SQL with %u %l %d %% (bound parameters): one row, the maildir (first column or `maildir`), optional `quota`. */
  readonly recipientQuery: string | undefined;
  /** Optional: when the recipient query finds nobody, a row here means "known domain" (67), none "unknown domain" (68). */
  readonly domainQuery: string | undefined;
  /** c11n `database`: the database section the queries run on (default: the accounts database). */
  readonly database: DatabaseConfig;
  /** `+` for user+ext@domain: a recipient not found is looked up again without the extension. */
  readonly recipientDelimiter: string | undefined;
  /** Default Maildir++ quota (`500M`, `1048576S,1000C`, `none`); the query's `quota` column wins. */
  readonly quota: string | undefined;
  /** Over quota: `tempfail` (exit 75, the MTA retries) or `bounce` (exit 69). */
  readonly overQuota: 'tempfail' | 'bounce';
  /** Create a missing maildir (tmp/ new/ cur/, mode 0700). */
  readonly createMaildir: boolean;
  /**
   * Store new mail with CRLF line ends (bare LF made CRLF, a final line end added) for
   * `r2d2 deliver` and LMTP: the Z size is then the file's size and RETR sends the bytes as they are.
   */
  readonly storeCrlf: boolean;
}

/** The `maildrop_lock` section: where the maildrop lock lives (src/maildrop/locker.ts, src/lease). */
export type MaildropLockConfig =
  | { readonly backend: 'local'; readonly leaseMs: number; readonly database: undefined; readonly table: string }
  /** A lease row per maildrop in `table` on `database` (default: the accounts database). */
  | { readonly backend: 'database'; readonly leaseMs: number; readonly database: DatabaseConfig; readonly table: string };

/** The `auth_http` section: nginx's mail auth protocol over HTTP (server/auth-http.ts). */
export interface AuthHttpConfig {
  /** Where it listens (loopback by default); bound by the supervisor like a listener. */
  readonly address: string;
  readonly port: number;
  /** Whose `Client-IP` header is believed (CIDR); other askers are keyed by their own address. */
  readonly trustedProxies: readonly string[];
  /** The backend for a row with no `host` / `port` column (or NULL there). */
  readonly defaultHost: string;
  readonly defaultPort: number;
}

/** The `metrics` section: the Prometheus/OpenMetrics endpoint (src/server/metrics). */
export interface MetricsConfig {
  readonly address: string;
  /** 0 = any free port (tests). */
  readonly port: number;
}

/** The `lmtp` section: an LMTP listener in `r2d2 serve` (src/lmtp), delivering as the deliver section says. */
export interface LmtpConfig {
  /** A unix socket made by the supervisor; user/group: names or numbers (default: the sessions' user). */
  readonly socket: { readonly path: string; readonly user: string | undefined; readonly group: string | undefined; readonly mode: number } | undefined;
  /** A TCP listener (loopback by default). */
  readonly inet: { readonly address: string; readonly port: number } | undefined;
  /** RFC 1870 SIZE in octets; undefined: no limit. */
  readonly maxMessageSize: number | undefined;
  readonly maxRecipients: number;
  /** Prepend `Delivered-To: <recipient>` (Postfix pipe flag D): each recipient then gets a file of its own. */
  readonly deliveredTo: boolean;
  /** Prepend `Return-Path: <sender>` (flag R). */
  readonly returnPath: boolean;
  readonly idleTimeoutMs: number;
}

/** The `passwords` section and rehash_query_format_string (src/accounts/passwords). */
export interface PasswordsConfig {
  /** For stored values with neither a {SCHEME} prefix nor a $id$; undefined: such values are refused. */
  readonly defaultScheme: SchemeSpec | undefined;
  /** MD5-CRYPT, PLAIN-MD5 and SHA are refused unless this is set. */
  readonly allowWeakSchemes: boolean;
  /** After a main-password login with a weaker hash, rewrite it in this scheme. */
  readonly rehashTo: SchemeName | undefined;
  /** The UPDATE that writes it: %h new hash, %o old value, %u %l %d %r %%. */
  readonly rehashQuery: string | undefined;
}

/** RFC 2449 EXPIRE: days a retrieved message stays, or never. */
export type ExpireDays = number | 'never';

/** The `policy` section and last_login_query_format_string: LOGIN-DELAY and EXPIRE (src/pop3/policy.ts). */
export interface PolicyConfig {
  /** Seconds between two logins of one user; 0 = none. The query's `login_delay` column overrides it. */
  readonly loginDelaySeconds: number;
  /** Days a retrieved message stays; undefined: not announced (r2d2 then never expires mail). The `expire` column overrides it. */
  readonly expire: ExpireDays | undefined;
  /** The maildrop query returns `login_delay` / `expire`: values vary per user (CAPA's USER tag). */
  readonly loginDelayPerUser: boolean;
  readonly expirePerUser: boolean;
  /** The maildrop query returns `last_login`. */
  readonly lastLoginColumn: boolean;
  /** The UPDATE run after each login: %u %l %d %r %%. */
  readonly lastLoginQuery: string | undefined;
}

export interface Config {
  /** Absolute path of the personality folder the config came from. */
  readonly personalityDir: string;
  /** The syslog tag, `server.pop3.r2d2` by default. */
  readonly identity: string;
  readonly listeners: readonly ListenerConfig[];
  /** c11n top-level `trusted_proxies` (CIDR): the default of every listener's list. */
  readonly trustedProxies: readonly string[];
  /** c11n `session_ticket_key_file`: TLS session ticket keys shared by every host using the file; undefined = random at start. */
  readonly sessionTicketKeyFile: string | undefined;
  /** Worker threads; 0 in c11n means one per core and is resolved here. */
  readonly threads: number;
  /** Sessions run as this user/group (name or number) after binding; undefined = stay as started. */
  readonly uid: string | undefined;
  readonly gid: string | undefined;
  /** Allow sessions to run as root (ServerKit's `executes_as_root`); off by default. */
  readonly executesAsRoot: boolean;
  /** SIGTERM lets sessions finish for this long, then closes the rest without their deletions. */
  readonly shutdownTimeoutMs: number;
  /** Lock files, directory listings and small messages use blocking calls (local disks). */
  readonly blockingFileIo: boolean;
  /** Messages up to this size are read with blocking calls (see maildrop/message-file.ts); 0 = never. */
  readonly syncReadMax: number;
  /** RFC 1939 §3: an autologout timer of at least 10 minutes. c11n: `idle_timeout` in seconds. */
  readonly idleTimeoutMs: number;
  /** When set, every maildir path from the accounts query must resolve inside it. */
  readonly maildirRoot: string | undefined;
  /** SQL with %u %l %d %p %r %% substitutions, each becoming a bound parameter. */
  readonly maildropQuery: string;
  /** How a `password` column the maildrop query returns is verified. */
  readonly passwords: PasswordsConfig;
  /** LOGIN-DELAY and EXPIRE: the `policy` section, the query's policy columns, the last-login query. */
  readonly policy: PolicyConfig;
  /** The database the maildrop query runs on (c11n `accounts_database`, a `database` section title). */
  readonly accountsDatabase: DatabaseConfig;
  readonly databases: readonly DatabaseConfig[];
  readonly limits: LimitsConfig;
  readonly log: LogConfig;
  /** The `maildrop_lock` section (backend local when absent). */
  readonly maildropLock: MaildropLockConfig;
  /** The `deliver` section; undefined when the personality has none. */
  readonly deliver: DeliverConfig | undefined;
  /** The `oauth2` section (token logins: OAUTHBEARER, XOAUTH2); undefined when the personality has none. */
  readonly oauth2: OAuth2Config | undefined;
  /** The `auth_http` section; undefined when the personality has none. */
  readonly authHttp: AuthHttpConfig | undefined;
  /** The `metrics` section; undefined when the personality has none (no endpoint, no cost). */
  readonly metrics: MetricsConfig | undefined;
  /** The unix socket of `r2d2 who`/`kick`/`status` (server/control-socket.ts); undefined = none. */
  readonly controlSocket: string | undefined;
  /** The `lmtp` section; undefined when the personality has none. */
  readonly lmtp?: LmtpConfig | undefined;
}
