// r2d2 behind a real HAProxy (Debian's, TCP mode): send-proxy (v1), send-proxy-v2 with a POP3
// health check (v2 LOCAL), and send-proxy-v2-ssl with HAProxy ending TLS. Clients connect from
// other loopback addresses (127.0.0.2...), so the peer r2d2 sees can only have come from the header.
import { readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { makeCertificates } from '../helpers/certificates';
import { fixture, type Fixture } from '../helpers/fixture';
import { Haproxy } from '../helpers/haproxy';
import { MAILBOX_QUERY } from '../helpers/mariadb';
import { putMessage, sampleMessage } from '../helpers/maildir';
import type { Pop3Client } from '../helpers/pop3-client';
import { freePort } from '../helpers/ports';
import { connectWithHeader, v1 } from '../helpers/proxy-header';

const certs = makeCertificates();
t.teardown(() => certs.remove());

/** %r must be a client, never the proxy (127.0.0.1): a login proves %r came from the header. */
const QUERY = `${MAILBOX_QUERY} AND %r <> '127.0.0.1'`;

const LISTENERS = `
trusted_proxies = { "127.0.0.1/32" }
listen "pop3" { address = "127.0.0.1"  port = 0  proxy_protocol = yes }
listen "tlsonly" { address = "127.0.0.1"  port = 0  proxy_protocol = yes  plaintext_auth = never }
`;

interface Lab {
  readonly f: Fixture;
  readonly haproxy: Haproxy;
  readonly ports: { readonly v1: number; readonly v2: number; readonly ssl: number; readonly plainToTlsOnly: number };
}

async function setUp(t: Test, limits = 'auth_failure_delay_ms = 0'): Promise<Lab> {
  const f = await fixture(t, { listeners: LISTENERS, query: QUERY, limits });
  const md = f.mail.maildir('alice');
  putMessage(md, sampleMessage(1));
  await f.db.addUser('alice', 'pw', md);
  const ports = { v1: await freePort(), v2: await freePort(), ssl: await freePort(), plainToTlsOnly: await freePort() };
  const pop3 = f.server.portOf('pop3');
  const tlsOnly = f.server.portOf('tlsonly');
  const haproxy = Haproxy.start(
    t,
    `
global
  nbthread 1
  stats socket $DIR/admin.sock mode 600 level admin
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend v1
  bind 127.0.0.1:${ports.v1}
  default_backend r2d2_v1
backend r2d2_v1
  server r1 127.0.0.1:${pop3} send-proxy
frontend v2
  bind 127.0.0.1:${ports.v2}
  default_backend r2d2_v2
backend r2d2_v2
  option tcp-check
  tcp-check expect string +OK
  tcp-check send QUIT\\r\\n
  tcp-check expect string +OK
  server r1 127.0.0.1:${pop3} send-proxy-v2 check inter 300ms
frontend pop3s
  bind 127.0.0.1:${ports.ssl} ssl crt $DIR/server.pem
  default_backend r2d2_ssl
backend r2d2_ssl
  server r1 127.0.0.1:${tlsOnly} send-proxy-v2-ssl
frontend plain
  bind 127.0.0.1:${ports.plainToTlsOnly}
  default_backend r2d2_plain
backend r2d2_plain
  server r1 127.0.0.1:${tlsOnly} send-proxy-v2
`,
    { 'server.pem': readFileSync(certs.cert, 'utf8') + readFileSync(certs.key, 'utf8') },
  );
  // The v2 backend comes UP only once r2d2 has greeted HAProxy's LOCAL health check.
  await haproxy.waitForServer('r2d2_v2', 'r1', 'UP');
  return { f, haproxy, ports };
}

async function viaProxy(port: number, from: string): Promise<Pop3Client> {
  const c = await connectWithHeader(port, undefined, { localAddress: from });
  const g = await c.readStatus();
  if (!g.ok) throw new Error(`greeting: ${g.text}`);
  return c;
}

t.test('send-proxy (v1) and send-proxy-v2: the client address and port are the peer, %r included', async (t) => {
  const { f, ports } = await setUp(t);
  for (const [version, port, from] of [['v1', ports.v1, '127.0.0.2'], ['v2', ports.v2, '127.0.0.3']] as const) {
    const c = await viaProxy(port, from);
    t.teardown(() => c.destroy());
    t.ok((await c.login('alice', 'pw')).ok, `${version}: logged in, %r = ${from}`);
    const retr = await c.cmd('RETR 1');
    t.match(retr.lines?.join('\n'), /Subject: message 1/, `${version}: RETR through HAProxy`);
    const clientPort = c.socket.localPort;
    t.match(await f.server.waitForLine(new RegExp(`connected peer="${from.replaceAll('.', '\\.')}"`)), new RegExp(`port="${clientPort}" proxy="127\\.0\\.0\\.1" listener="pop3"`));
    t.ok((await c.cmd('QUIT')).ok);
    const wrong = await viaProxy(port, from);
    t.teardown(() => wrong.destroy());
    t.notOk((await wrong.login('alice', 'nope')).ok);
    t.match(await f.server.waitForLine(new RegExp(`login failed: bad credentials user="alice" peer="${from.replaceAll('.', '\\.')}"`)), /peer=/, `${version}: the fail2ban line names the client`);
  }
  t.ok(f.server.lines.some((l) => /connected peer="127\.0\.0\.1" proxy="127\.0\.0\.1" proxy_command="local"/.test(l)), 'the health checks came as v2 LOCAL and were greeted');
  t.notOk(f.server.lines.some((l) => /no valid PROXY header|not a trusted proxy/.test(l)), 'HAProxy never sent a header r2d2 refused');
});

t.test('per-address limits and failed-login penalties count the client behind HAProxy', async (t) => {
  const { f, ports } = await setUp(t, 'auth_failure_delay_ms = 20  auth_penalty_max_ms = 10000  max_connections_per_address = 2');
  const held: Pop3Client[] = [];
  t.teardown(() => held.forEach((c) => c.destroy()));
  for (let i = 0; i < 2; i++) held.push(await viaProxy(ports.v1, '127.0.0.2'));
  const third = await connectWithHeader(ports.v1, undefined, { localAddress: '127.0.0.2' });
  held.push(third);
  t.same(await third.readStatus(), { ok: false, text: '[SYS/TEMP] too many connections, try again later' }, 'a third from 127.0.0.2 is refused');
  held.push(await viaProxy(ports.v1, '127.0.0.3'));
  t.pass('127.0.0.3 through the same HAProxy is admitted');

  // Failed logins: 127.0.0.2 twice (the delay doubles), then 127.0.0.3 (its own count).
  const delays: string[] = [];
  for (const [c, user] of [[held[0], 'ghost1'], [held[1], 'ghost2'], [held[3], 'ghost3']] as const) {
    if (c === undefined) throw new Error('no client');
    t.notOk((await c.login(user, 'x')).ok);
    const line = await f.server.waitForLine(/login failure delay delayMs="\d+"/);
    f.server.lines.splice(f.server.lines.indexOf(line), 1);
    delays.push(/delayMs="(\d+)"/.exec(line)?.[1] ?? '');
  }
  t.same(delays, ['20', '40', '20']);
});

t.test('send-proxy-v2-ssl: HAProxy ends TLS; the session counts as TLS for plaintext_auth and tls=', async (t) => {
  const { f, ports } = await setUp(t);
  const c = await connectWithHeader(ports.ssl, undefined, { localAddress: '127.0.0.4', ca: readFileSync(certs.ca, 'utf8') });
  t.teardown(() => c.destroy());
  t.ok((await c.readStatus()).ok);
  t.ok((await c.login('alice', 'pw')).ok, 'USER/PASS allowed on a plaintext_auth = never listener');
  t.match(await f.server.waitForLine(/connected peer="127\.0\.0\.4"/), new RegExp(`port="${c.socket.localPort}" proxy="127\\.0\\.0\\.1" listener="tlsonly" tls="proxy TLSv1\\.3"`));
  await c.cmd('QUIT');
  t.match(await f.server.waitForLine(/disconnected: peer quit, sequence="upq"/), /tls="proxy TLSv1\.3"/);

  const plain = await viaProxy(ports.plainToTlsOnly, '127.0.0.5');
  t.teardown(() => plain.destroy());
  t.same(await plain.cmd('USER alice'), { ok: false, text: '[AUTH] TLS required: use STLS or the POP3S port' }, 'send-proxy-v2 without TLS: plaintext');
});

t.test('an untrusted address sending a forged header straight to r2d2 is refused', async (t) => {
  const { f } = await setUp(t);
  const forged = await connectWithHeader(f.server.portOf('pop3'), v1('127.0.0.9', 1), { localAddress: '127.0.0.2' });
  t.equal(await forged.readToClose(), '', 'no greeting, nothing read');
  t.match(await f.server.waitForLine(/not a trusted proxy/), /peer="127\.0\.0\.2"/);
  t.notOk(f.server.lines.some((l) => l.includes('127.0.0.9')), 'the forged address appears nowhere');
});
