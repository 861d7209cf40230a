// The r2d2 c11n: a full config round trip, defaults, r2d2's own checks, files on disk and
// the example personality.
import path from 'node:path';
import t from 'tap';
import { loadConfig, parseConfigText } from '../../src/config/load';
import type { Config } from '../../src/config/types';
import { failure } from '../helpers/c11n';

const ROOT = path.resolve(__dirname, '../../..');
const FIXTURES = path.join(ROOT, 'test/fixtures/c11n');
const DIR = '/etc/r2d2';
const QUERY = 'maildrop_query_format_string = "SELECT maildir FROM m WHERE u = %u"';
const MINIMAL = `listen "pop3" { port = 110 }\n${QUERY}\ndatabase "accounts" { }`;

function config(text: string, env: NodeJS.ProcessEnv = {}, cores = 2): Config {
  return parseConfigText(text, DIR, env, cores, (name) => {
    throw new Error(`ENOENT: no such file or directory, open '${name}'`);
  });
}


const MYSQL_DEFAULTS = {
  driver: 'mysql', host: '127.0.0.1', port: 3306, hosts: [{ host: '127.0.0.1', port: 3306 }], socket: undefined, user: 'root', password: '', database: '',
  poolSize: 10, connectTimeoutMs: 5000, queryTimeoutMs: 10_000, file: undefined,
};

const LOCAL_LOCK = { backend: 'local', leaseMs: 30_000, database: undefined, table: 'r2d2_maildrop_lock' };

/** A listener's PROXY protocol keys when none is written. */
const NO_PROXY = { proxyProtocol: false, trustedProxies: [], proxyProtocolTimeoutMs: 3000 };
const PLAIN_110 = { name: 'pop3', address: '0.0.0.0', port: 110, tls: 'none', tlsConfig: undefined, plaintextAuth: 'always', trustLoopback: false, ...NO_PROXY };
const tlsFiles = (dir: string) => ({
  certificate: `${dir}/a.pem`, privateKey: `${dir}/a.key`, passphrase: undefined, minVersion: 'TLSv1.2', ciphers: undefined, sni: [], handshakeTimeoutMs: 30_000,
});

t.test('a minimal config gets every default', async (t) => {
  const accounts = { name: 'accounts', ...MYSQL_DEFAULTS };
  t.same(config(MINIMAL, {}, 8), {
    personalityDir: DIR,
    identity: 'server.pop3.r2d2',
    listeners: [PLAIN_110],
    trustedProxies: [],
    threads: 8,
    uid: undefined,
    gid: undefined,
    executesAsRoot: false,
    shutdownTimeoutMs: 30_000,
    blockingFileIo: true,
    syncReadMax: 131_072,
    idleTimeoutMs: 600_000,
    maildirRoot: undefined,
    maildropQuery: 'SELECT maildir FROM m WHERE u = %u',
    passwords: { defaultScheme: undefined, allowWeakSchemes: false, rehashTo: undefined, rehashQuery: undefined },
    policy: { loginDelaySeconds: 0, expire: undefined, loginDelayPerUser: false, expirePerUser: false, lastLoginColumn: false, lastLoginQuery: undefined },
    accountsDatabase: accounts,
    databases: [accounts],
    limits: { maxBadCommands: 10, maxConnections: 10000, maxConnectionsPerAddress: 50, authFailureDelayMs: 1000, authPenaltyMaxMs: 15_000, loginTimeoutMs: 60_000 },
    log: { destination: 'stdout', level: 'info', format: 'rfc3164', facility: 'mail', syslogSocket: '/dev/log', udpAddress: undefined },
    maildropLock: LOCAL_LOCK,
    deliver: undefined,
  });
});

t.test('a full config round trip', async (t) => {
  const text = `
identity = pop.example.org
listen "pop3" { address = 192.0.2.1; port = 110; tls = stls; certificate = /etc/ssl/a.pem; private_key = /etc/ssl/a.key }
listen "pop3s" {
  address = "::"
  port = 995
  tls = implicit
  certificate = tls/a.pem
  private_key = tls/a.key
  min_tls_version = TLSv1.3
  handshake_timeout = 5
  plaintext_auth = never
  sni "pop.example.net" { certificate = b.pem, private_key = b.key, passphrase = "p" }
}
threads = 3
uid = vmail
gid = mail
shutdown_timeout = 5
idle_timeout = 30
maildir_root = /var/mail/../mail/vhosts/
maildrop_query_format_string = "SELECT maildir FROM mailbox WHERE local = %l AND domain = %d AND pw = %p AND ip <> %r AND x LIKE '100%%' AND u = '%u'"
accounts_database = "main"
database "main" {
  driver = mysql, host = db.example.org, port = 3307, socket = /run/mysqld/mysqld.sock
  user = r2d2, password = "\${PW}", database = mail, pool_size = 1000, connect_timeout = 2
}
database "embedded" { driver = sqlite; file = "data/../accounts.sqlite" }
limits { max_bad_commands = 3, max_connections = 1 }
log { destination = syslog, level = trace }
policy { login_delay = 300, expire = NEVER }
`;
  const main = {
    name: 'main', driver: 'mysql', host: 'db.example.org', port: 3307, hosts: [{ host: 'db.example.org', port: 3307 }], socket: '/run/mysqld/mysqld.sock', user: 'r2d2',
    password: 'top"secret', database: 'mail', poolSize: 1000, connectTimeoutMs: 2000, queryTimeoutMs: 10_000, file: undefined,
  };
  const embedded = { ...MYSQL_DEFAULTS, name: 'embedded', driver: 'sqlite', file: '/etc/r2d2/accounts.sqlite' };
  t.same(config(text, { PW: 'top"secret' }), {
    personalityDir: DIR,
    identity: 'pop.example.org',
    listeners: [
      { name: 'pop3', address: '192.0.2.1', port: 110, tls: 'stls', tlsConfig: tlsFiles('/etc/ssl'), plaintextAuth: 'never', trustLoopback: false, ...NO_PROXY },
      {
        name: 'pop3s',
        address: '::',
        port: 995,
        tls: 'implicit',
        tlsConfig: {
          ...tlsFiles(`${DIR}/tls`),
          minVersion: 'TLSv1.3',
          handshakeTimeoutMs: 5000,
          sni: [{ serverName: 'pop.example.net', certificate: `${DIR}/b.pem`, privateKey: `${DIR}/b.key`, passphrase: 'p' }],
        },
        plaintextAuth: 'never',
        trustLoopback: false,
        ...NO_PROXY,
      },
    ],
    trustedProxies: [],
    threads: 3,
    uid: 'vmail',
    gid: 'mail',
    executesAsRoot: false,
    shutdownTimeoutMs: 5000,
    blockingFileIo: true,
    syncReadMax: 131_072,
    idleTimeoutMs: 30_000,
    maildirRoot: '/var/mail/vhosts',
    maildropQuery: "SELECT maildir FROM mailbox WHERE local = %l AND domain = %d AND pw = %p AND ip <> %r AND x LIKE '100%%' AND u = '%u'",
    passwords: { defaultScheme: undefined, allowWeakSchemes: false, rehashTo: undefined, rehashQuery: undefined },
    policy: { loginDelaySeconds: 300, expire: 'never', loginDelayPerUser: false, expirePerUser: false, lastLoginColumn: false, lastLoginQuery: undefined },
    accountsDatabase: main,
    databases: [main, embedded],
    limits: { maxBadCommands: 3, maxConnections: 1, maxConnectionsPerAddress: 50, authFailureDelayMs: 1000, authPenaltyMaxMs: 15_000, loginTimeoutMs: 60_000 },
    log: { destination: 'syslog', level: 'trace', format: 'rfc3164', facility: 'mail', syslogSocket: '/dev/log', udpAddress: undefined },
    maildropLock: LOCAL_LOCK,
    deliver: undefined,
  });
});

t.test('the Config is deep-frozen', async (t) => {
  const c = config(MINIMAL);
  for (const part of [c, c.listeners, c.listeners[0], c.databases, c.accountsDatabase, c.limits, c.log]) t.ok(Object.isFrozen(part));
  t.throws(() => {
    (c.limits as { maxConnections: number }).maxConnections = 1;
  }, TypeError);
  t.equal(c.accountsDatabase, c.databases[0], 'accountsDatabase is one of databases');
});

t.test('threads and cores', async (t) => {
  t.equal(config(MINIMAL, {}, 16).threads, 16);
  t.equal(config(`threads = 0\n${MINIMAL}`, {}, 0).threads, 1, 'never fewer than one thread');
  t.equal(config(`threads = 5\n${MINIMAL}`, {}, 16).threads, 5);
  t.equal(failure(() => config(`threads = -1\n${MINIMAL}`)), 'c11n:1:11: "threads" must be between 0 and 1024, got -1');
});

t.test('r2d2 value checks', async (t) => {
  t.equal(failure(() => config(`idle_timeout = 0\n${MINIMAL}`)), 'c11n:1:16: "idle_timeout" must be between 1 and 2147483, got 0');
  t.equal(failure(() => config(`maildir_root = var/mail\n${MINIMAL}`)), 'c11n:1:16: "maildir_root" must be an absolute path, got "var/mail"');
  t.equal(failure(() => config(`identity = "two words"\n${MINIMAL}`)), 'c11n:1:12: "identity" must be one word (a syslog tag), got "two words"');
  t.equal(failure(() => config(`${MINIMAL}\nlimits { max_bad_commands = 0 }`)), 'c11n:4:29: "max_bad_commands" must be at least 1, got 0');
  t.equal(failure(() => config(`${MINIMAL}\nlog { level = verbose }`)), 'c11n:4:15: "level" must be one of trace, debug, info, warn, error, fatal, got "verbose"');
  t.equal(failure(() => config(`${MINIMAL}\nlog { destination = file }`)), 'c11n:4:21: "destination" must be one of stdout, stderr, syslog, udp, got "file"');
  t.equal(failure(() => config(`${MINIMAL}\nlimits { max_connection = 5 }`)), 'c11n:4:10: unknown key "max_connection" in section "limits"');
  t.equal(failure(() => config(`${MINIMAL}\nfoo = 1`)), 'c11n:4:1: unknown key "foo"');
});

t.test('maildrop_query_format_string', async (t) => {
  const listen = 'listen "pop3" { port = 110 }\ndatabase "a" { }\n';
  t.equal(failure(() => config(listen)), 'c11n:1:1: missing required "maildrop_query_format_string"');
  t.equal(failure(() => config(`${listen}maildrop_query_format_string = "SELECT 1 WHERE u = %x"`)),
    'c11n:3:32: "maildrop_query_format_string" has an unknown substitution "%x" at character 20 (use %u %l %d %p %r or %%)');
  t.equal(failure(() => config(`${listen}maildrop_query_format_string = 'LIKE 100%'`)),
    'c11n:3:32: "maildrop_query_format_string" ends with a lone "%" (write %% for a literal percent)');
  t.equal(failure(() => config(`${listen}maildrop_query_format_string = " "`)), 'c11n:3:32: "maildrop_query_format_string" must not be empty');
  t.equal(config(`${listen}maildrop_query_format_string = '%%u %u%%'`).maildropQuery, '%%u %u%%');
});

t.test('listeners', async (t) => {
  const rest = `${QUERY}\ndatabase "a" { }\n`;
  t.equal(failure(() => config(rest)), 'c11n:1:1: at least one "listen" section is required');
  t.equal(failure(() => config(`${rest}listen "x" { address = 0.0.0.0 }`)), 'c11n:3:1: missing required "port" in section "listen x"');
  t.equal(failure(() => config(`${rest}listen "x" { port = 70000 }`)), 'c11n:3:21: "port" must be between 0 and 65535, got 70000');
  t.equal(failure(() => config(`${rest}listen "x" { port = 110, tls = ssl }`)), 'c11n:3:32: "tls" must be one of none, stls, implicit, got "ssl"');
  t.equal(failure(() => config(`${rest}listen "a" { port = 110 }\nlisten "b" { port = 111 }\n  listen "c" { port = 110, address = 0.0.0.0 }`)),
    'c11n:5:3: listen "c" uses 0.0.0.0:110, already used by listen "a"');
  t.equal(failure(() => config(`${rest}listen "a" { port = 110 }\nlisten "a" { port = 111 }`)), 'c11n:4:1: duplicate section "listen a" (first at c11n:3:1)');
  t.same(config(`${rest}listen "a" { port = 110 }\nlisten "b" { port = 110, address = 127.0.0.1 }`).listeners.map((l) => l.address), ['0.0.0.0', '127.0.0.1']);
  t.same(config(`${rest}listen "a" { port = 0 }\nlisten "b" { port = 0 }`).listeners.map((l) => l.port), [0, 0], 'port 0: any free port, never a clash');
  t.equal(failure(() => config(`${rest}listen "x" { port = -1 }`)), 'c11n:3:21: "port" must be between 0 and 65535, got -1');
});

t.test('databases and accounts_database', async (t) => {
  const head = `listen "pop3" { port = 110 }\n${QUERY}\n`;
  t.equal(failure(() => config(head)), 'c11n:1:1: at least one "database" section is required');
  t.equal(failure(() => config(`${head}database "a" { }\n  database "b" { }`)), 'c11n:4:3: several database sections (a, b): set accounts_database to one of them');
  t.equal(config(`${head}database "a" { }\ndatabase "b" { }\naccounts_database = b`).accountsDatabase.name, 'b');
  t.equal(failure(() => config(`${head}database "a" { }\naccounts_database = "c"`)), 'c11n:4:21: "accounts_database" names no database section: "c" (known: a)');
  t.equal(failure(() => config(`${head}database "a" {\n  driver = sqlite\n}`)), 'c11n:3:1: missing required "file" in section "database a" (driver sqlite)');
  t.equal(failure(() => config(`${head}database "a" {\n  file = x.db\n}`)), 'c11n:4:10: "file" is only for driver sqlite (this database\'s driver is mysql)');
  t.equal(failure(() => config(`${head}database "a" { driver = postgres }`)), 'c11n:3:25: "driver" must be one of mysql, sqlite, got "postgres"');
  t.equal(failure(() => config(`${head}database "a" { pool_size = 1001 }`)), 'c11n:3:28: "pool_size" must be between 1 and 1000, got 1001');
  t.equal(failure(() => config(`${head}database "a" { connect_timeout = 0 }`)), 'c11n:3:34: "connect_timeout" must be between 1 and 2147483, got 0');
  t.equal(config(`${head}database "a" { driver = sqlite, file = /abs/a.db }`).accountsDatabase.file, '/abs/a.db');
  t.match(failure(() => config(`${QUERY}\ndatabase "a" { }\nlisten "x" { port = 110, tls = stls }`)), /^c11n:3:\d+: listen "x" has tls = stls: set certificate and private_key$/);
  t.equal(failure(() => config(`uid = ""\n${MINIMAL}`)), 'c11n:1:7: "uid" must not be empty');
});

t.test('database hosts: several servers in order, or one host and port', async (t) => {
  const head = `listen "pop3" { port = 110 }\n${QUERY}\n`;
  const db = (body: string): Config['accountsDatabase'] => config(`${head}database "a" { ${body} }`).accountsDatabase;
  t.same(db('hosts = { "db1:3307", "db2", "[::1]:3308" }').hosts, [{ host: 'db1', port: 3307 }, { host: 'db2', port: 3306 }, { host: '::1', port: 3308 }]);
  t.same([db('hosts = { "db1:3307", "db2" }').host, db('hosts = { "db1:3307", "db2" }').port], ['db1', 3307], 'host and port: the first server');
  t.same(db('host = db9  port = 3310').hosts, [{ host: 'db9', port: 3310 }]);
  t.equal(failure(() => db('hosts = { "db1:99999" }')), 'c11n:3:26: "hosts" must be "host", "host:port" or "[ipv6]:port" (port 1 to 65535), got "db1:99999"');
  t.equal(failure(() => db('host = db1  hosts = { "db2" }')), 'c11n:3:23: database "a" sets both "hosts" and "host": list every server in hosts ("db1:3306", ...) and drop host');
  t.equal(failure(() => db('hosts = { "db1", "db1:3306" }')), 'c11n:3:24: database "a": "hosts" names db1:3306 twice');
  t.equal(failure(() => db('driver = sqlite  file = /a.db  hosts = { "db1" }')), 'c11n:3:55: "hosts" is for driver mysql (this database\'s driver is sqlite)');
});

t.test('maildrop_lock: lock files, or leases on a database section', async (t) => {
  const dbs = `listen "pop3" { port = 110 }\n${QUERY}\naccounts_database = a\ndatabase "a" { }\ndatabase "locks" { user = r2d2_lock }\ndatabase "file" { driver = sqlite  file = /a.db }\n`;
  t.same(config(`${dbs}maildrop_lock { }`).maildropLock, LOCAL_LOCK);
  const onAccounts = config(`${dbs}maildrop_lock { backend = database  lease = 10 }`);
  t.same(onAccounts.maildropLock, { backend: 'database', leaseMs: 10_000, database: onAccounts.accountsDatabase, table: 'r2d2_maildrop_lock' });
  const own = config(`${dbs}maildrop_lock { backend = database  database = locks  table = "mail.leases" }`).maildropLock;
  t.same([own.database?.name, own.database?.user, own.table, own.leaseMs], ['locks', 'r2d2_lock', 'mail.leases', 30_000]);
  t.equal(failure(() => config(`${dbs}maildrop_lock { backend = database  database = nope }`)), 'c11n:7:48: "database" names no database section: "nope" (known: a, locks, file)');
  t.equal(failure(() => config(`${dbs}maildrop_lock { backend = database  database = file }`)), 'c11n:7:48: backend = database needs a mysql database section; "file" is sqlite');
  t.equal(failure(() => config(`${dbs}maildrop_lock { database = locks }`)), 'c11n:7:28: "database" is for backend = database (this maildrop_lock is local)');
  t.equal(failure(() => config(`${dbs}maildrop_lock { backend = database  lease = 2 }`)), 'c11n:7:45: "lease" must be between 3 and 3600, got 2');
  t.equal(failure(() => config(`${dbs}maildrop_lock { backend = file }`)), 'c11n:7:27: "backend" must be one of local, database, got "file"');
  t.match(failure(() => config(`${dbs}maildrop_lock { table = "x; DROP" }`)), /"table" must be a table name/);
});

t.test('includes through the injected reader', async (t) => {
  const files: Record<string, string> = { 'modules/db.c11n': 'host = ${DB_HOST}\n  port = 0' };
  const read = (name: string): string => files[name] ?? '';
  const text = `${MINIMAL.replace('database "accounts" { }', 'database "accounts" { include("modules/db.c11n") }')}`;
  t.equal(failure(() => parseConfigText(text, DIR, { DB_HOST: 'db' }, 1, read)), 'modules/db.c11n:2:10: "port" must be between 1 and 65535, got 0');
  t.equal(failure(() => parseConfigText(text, DIR, {}, 1, read)), 'modules/db.c11n:1:8: environment variable "DB_HOST" is not set');
});

t.test('loadConfig reads <dir>/c11n and its includes from disk', async (t) => {
  const dir = path.join(FIXTURES, 'included');
  const c = loadConfig(dir, { POOL: '4' }, 2);
  t.equal(c.personalityDir, dir);
  t.same(c.listeners, [
    { ...PLAIN_110, port: 1110 },
    { ...PLAIN_110, name: 'pop3s', port: 1995, tls: 'stls', tlsConfig: tlsFiles(dir), plaintextAuth: 'never' },
  ]);
  t.same(c.accountsDatabase, { ...MYSQL_DEFAULTS, name: 'local', driver: 'sqlite', poolSize: 4, file: path.join(dir, 'data/accounts.sqlite') });
  t.equal(c.maildropQuery, 'SELECT path FROM users WHERE login = %u AND pw = %p');
  t.equal(loadConfig(dir, {}, 2).accountsDatabase.poolSize, 2);
  t.equal(failure(() => loadConfig(path.join(FIXTURES, 'broken'), {}, 2)), 'modules/listen.c11n:2:10: "port" must be between 0 and 65535, got 70000');
  const missing = path.join(FIXTURES, 'no-such-personality');
  t.equal(failure(() => loadConfig(missing, {}, 2)), `c11n:1:1: cannot read ${missing}/c11n: ENOENT: no such file or directory`);
});

t.test('the example personality loads', async (t) => {
  const dir = path.join(ROOT, 'personality');
  const c = loadConfig(dir, { R2D2_DB_PASSWORD: 'pw' }, 4);
  t.same(c.listeners, [PLAIN_110]);
  t.same(c.accountsDatabase, { ...MYSQL_DEFAULTS, name: 'accounts', user: 'r2d2', password: 'pw', database: 'mail' });
  t.same(c.maildropLock, LOCAL_LOCK);
  t.equal(c.maildropQuery, 'SELECT maildir FROM mailbox WHERE username = %u AND password = SHA2(%p, 256) AND active = 1');
  t.equal(c.maildirRoot, '/var/mail/vhosts');
  t.equal(c.threads, 4);
  t.equal(c.idleTimeoutMs, 600_000);
  t.equal(loadConfig(dir, { R2D2_DB_PASSWORD: 'pw', R2D2_DB_HOST: 'db1', R2D2_DB_USER: 'pop' }, 4).accountsDatabase.host, 'db1');
  t.match(failure(() => loadConfig(dir, {}, 4)), /^c11n:\d+:15: environment variable "R2D2_DB_PASSWORD" is not set$/);
});
