// The auth_http endpoint as nginx's mail module asks it (ngx_mail_auth_http_module's headers,
// written by the test; nginx itself: test/integration/proxy-nginx.test.ts): the same accounts and
// penalties as a POP3 login, the backend from the row, Client-IP believed from trusted_proxies only.
import { request } from 'node:http';
import t, { type Test } from 'tap';
import { fixture, type Fixture } from '../helpers/fixture';

/** nginx's NGX_ESCAPE_MAIL_AUTH: space, '%', controls and non-ASCII octets as %XX. */
function nginxEscape(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((b) => (b <= 0x20 || b === 0x25 || b >= 0x7f ? `%${b.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(b))).join('');
}

interface Answer {
  readonly code: number;
  readonly headers: Record<string, string | string[] | undefined>;
}

function ask(port: number, fields: Record<string, string>, options: { localAddress?: string; method?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/auth', method: options.method ?? 'GET', localAddress: options.localAddress, headers: { Host: 'localhost', ...fields } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ code: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

const login = (user: string, password: string, clientIp = '203.0.113.7', more: Record<string, string> = {}): Record<string, string> => ({
  'Auth-Method': 'plain',
  'Auth-User': nginxEscape(user),
  'Auth-Pass': nginxEscape(password),
  'Auth-Protocol': 'pop3',
  'Auth-Login-Attempt': '1',
  'Client-IP': clientIp,
  ...more,
});

// %r must be the client nginx names: the query proves which address reached it.
const QUERY = `SELECT maildir, host, port FROM mailbox WHERE username = %u AND password = SHA2(%p, 256) AND active = 1 AND %r LIKE '203.0.113.%%'`;

async function setUp(t: Test, limits = 'auth_failure_delay_ms = 0'): Promise<{ f: Fixture; port: number }> {
  const f = await fixture(t, {
    query: QUERY,
    limits,
    extra: 'auth_http { address = "127.0.0.1"  port = 0  trusted_proxies = { "127.0.0.1" }  default_host = "192.0.2.10"  default_port = 1110 }',
  });
  await f.db.query(`ALTER TABLE \`${f.db.name}\`.mailbox ADD COLUMN host VARCHAR(255) NULL, ADD COLUMN port INT NULL`);
  // alice's maildir does not exist: auth_http opens no maildrop.
  await f.db.addUser('alice', 'pw', `${f.mail.path}/alice-nowhere`);
  await f.db.query(`UPDATE \`${f.db.name}\`.mailbox SET host = '192.0.2.21', port = 110 WHERE username = 'alice'`);
  await f.db.addUser('bob@example.com', 'p@ss w%rd é', f.mail.maildir('bob'));
  await f.db.addUser('carol', 'pw', f.mail.maildir('carol'));
  await f.db.query(`UPDATE \`${f.db.name}\`.mailbox SET host = 'localhost' WHERE username = 'carol'`);
  return { f, port: f.server.portOf('auth_http') };
}

t.test('a good login answers OK with the backend of its row, or the defaults', async (t) => {
  const { f, port } = await setUp(t);
  const alice = await ask(port, login('alice', 'pw'));
  t.equal(alice.code, 200);
  t.match(alice.headers, { 'auth-status': 'OK', 'auth-server': '192.0.2.21', 'auth-port': '110' });
  t.notOk(alice.headers['auth-wait'], 'no wait on success');
  t.match(await f.server.waitForLine(/auth_http login ok user="alice"/), /peer="203\.0\.113\.7" backend="192\.0\.2\.21:110"/);
  t.notOk(f.server.lines.some((l) => /login ok user="alice" messages=/.test(l)), 'no POP3 login: no maildrop opened (it does not even exist)');

  const bob = await ask(port, login('bob@example.com', 'p@ss w%rd é'));
  t.match(bob.headers, { 'auth-status': 'OK', 'auth-server': '192.0.2.10', 'auth-port': '1110' }, 'NULL host and port: default_host, default_port; escaped name and password read');
  const carol = await ask(port, login('carol', 'pw'));
  t.match(carol.headers, { 'auth-status': 'OK', 'auth-port': '1110' });
  t.match(String(carol.headers['auth-server']), /^(127\.0\.0\.1|::1)$/, 'a host name is resolved: nginx takes addresses only');
});

t.test('a wrong password: the POP3 error text and Auth-Wait from the penalty of the client', async (t) => {
  const { f, port } = await setUp(t, 'auth_failure_delay_ms = 1000  auth_penalty_max_ms = 15000');
  const waits: string[] = [];
  for (const [user, ip] of [['alice', '203.0.113.7'], ['x1', '203.0.113.7'], ['x2', '203.0.113.7'], ['x3', '203.0.113.8']] as const) {
    const a = await ask(port, login(user, 'wrong', ip));
    t.equal(a.headers['auth-status'], '[AUTH] Authentication failed');
    waits.push(String(a.headers['auth-wait']));
  }
  t.same(waits, ['1', '2', '4', '1'], 'doubling for 203.0.113.7, its own count for 203.0.113.8');
  t.match(await f.server.waitForLine(/login failed: bad credentials user="alice"/), /\[\d+\] login failed: bad credentials user="alice" peer="203\.0\.113\.7"$/, 'the line fail2ban reads, naming the client');
  t.notMatch(f.server.lines.join('\n'), /wrong/, 'no password in the log');
});

t.test('Client-IP is believed from trusted_proxies only', async (t) => {
  const { f, port } = await setUp(t);
  const a = await ask(port, login('alice', 'pw', '203.0.113.7'), { localAddress: '127.0.0.2' });
  t.equal(a.headers['auth-status'], '[AUTH] Authentication failed', '%r is 127.0.0.2, the asker: the query finds no row');
  t.match(await f.server.waitForLine(/Client-IP ignored/), /proxy="127\.0\.0\.2"/);
  t.match(await f.server.waitForLine(/login failed: bad credentials user="alice"/), /peer="127\.0\.0\.2"/);
  const bogus = await ask(port, login('alice', 'pw', 'not-an-ip'));
  t.equal(bogus.headers['auth-status'], '[AUTH] Authentication failed', 'a Client-IP that is no address is ignored');
});

t.test('what r2d2 does not serve: other methods, protocols and verbs', async (t) => {
  const { port } = await setUp(t);
  const apop = await ask(port, { ...login('alice', ''), 'Auth-Method': 'apop', 'Auth-Salt': '<1.2@x>' });
  t.match(apop.headers, { 'auth-status': '[SYS/PERM] authentication method not supported' });
  t.notOk(apop.headers['auth-wait'], 'no Auth-Wait: nginx closes the connection');
  const imap = await ask(port, { ...login('alice', 'pw'), 'Auth-Protocol': 'imap' });
  t.match(imap.headers, { 'auth-status': '[SYS/PERM] only POP3 is served here' });
  const bare = await ask(port, { 'Auth-Method': 'plain' });
  t.match(bare.headers, { 'auth-status': '[SYS/PERM] bad auth_http request' });
  t.equal((await ask(port, login('alice', 'pw'), { method: 'POST' })).code, 405);
});
