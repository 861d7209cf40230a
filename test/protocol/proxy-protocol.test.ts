// PROXY protocol listeners, driven by raw headers a test writes (HAProxy itself: test/integration/
// proxy-haproxy.test.ts): the header's client is the session's peer in the log, the per-address
// limit, the failed-login penalty and %r; untrusted, malformed, truncated and late headers close.
import { readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { makeCertificates } from '../helpers/certificates';
import { fixture, type Fixture } from '../helpers/fixture';
import { MAILBOX_QUERY } from '../helpers/mariadb';
import { putMessage, sampleMessage } from '../helpers/maildir';
import type { Pop3Client } from '../helpers/pop3-client';
import { connectWithHeader, sslTlv, v1, v2 } from '../helpers/proxy-header';
import { testConfigText } from '../helpers/test-server';
import { parseConfigText } from '../../src/config/load';

const certs = makeCertificates();
t.teardown(() => certs.remove());

const LISTENERS = `
trusted_proxies = { "127.0.0.1/32", "::1" }
listen "pop3" { address = "127.0.0.1"  port = 0  proxy_protocol = yes  proxy_protocol_timeout = 1 }
listen "tlsonly" { address = "127.0.0.1"  port = 0  proxy_protocol = yes  plaintext_auth = never }
listen "pop3s" {
  address = "127.0.0.1"  port = 0  tls = implicit  proxy_protocol = yes
  certificate = "${certs.cert}"  private_key = "${certs.key}"
}
listen "direct" { address = "127.0.0.1"  port = 0 }
`;

/** %r must name 203.0.113.x: a login works only when the header's client reaches the query. */
const QUERY = `${MAILBOX_QUERY} AND %r LIKE '203.0.113.%%'`;

async function setUp(t: Test, limits = 'auth_failure_delay_ms = 0'): Promise<Fixture> {
  const f = await fixture(t, { listeners: LISTENERS, query: QUERY, limits });
  const md = f.mail.maildir('alice');
  putMessage(md, sampleMessage(1));
  await f.db.addUser('alice', 'pw', md);
  return f;
}

async function greeted(c: Pop3Client): Promise<void> {
  const g = await c.readStatus();
  if (!g.ok) throw new Error(`not greeted: ${g.text}`);
}

t.test('v1 and v2 headers: the client named is the peer of the log lines and of %r', async (t) => {
  const f = await setUp(t);
  const port = f.server.portOf('pop3');
  const a = await connectWithHeader(port, v1('203.0.113.7', 40001));
  t.teardown(() => a.destroy());
  await greeted(a);
  t.ok((await a.login('alice', 'pw')).ok, 'a v1 client from 203.0.113.7 logs in (%r bound to it)');
  t.match(await f.server.waitForLine(/connected peer="203\.0\.113\.7"/), / port="40001" proxy="127\.0\.0\.1" listener="pop3"/);
  await a.cmd('QUIT');

  const b = await connectWithHeader(port, v2({ source: { address: '198.51.100.9', port: 40002 } }));
  t.teardown(() => b.destroy());
  await greeted(b);
  t.same(await b.login('alice', 'pw'), { ok: false, text: '[AUTH] Authentication failed' }, '%r is 198.51.100.9: the query finds no row');
  t.match(await f.server.waitForLine(/login failed: bad credentials/), /user="alice" peer="198\.51\.100\.9"/);

  const c = await connectWithHeader(port, v2({ source: { address: '2001:db8:0:0:0:0:0:7', port: 40003 } }));
  t.teardown(() => c.destroy());
  await greeted(c);
  t.match(await f.server.waitForLine(/connected peer="2001:db8::7"/), /port="40003" proxy="127\.0\.0\.1"/, 'IPv6 from v2 bytes, RFC 5952 text');

  const d = await connectWithHeader(port, v2({ source: { address: '::ffff:203.0.113.9', port: 40004 } }));
  t.teardown(() => d.destroy());
  await greeted(d);
  t.ok((await d.login('alice', 'pw')).ok, 'an IPv4-mapped client is its IPv4 address');
  await f.server.waitForLine(/connected peer="203\.0\.113\.9"/);
});

t.test('v2 LOCAL (a health check) and v1 UNKNOWN are the proxy itself, greeted', async (t) => {
  const f = await setUp(t);
  const port = f.server.portOf('pop3');
  const local = await connectWithHeader(port, v2({ command: 'local' }));
  t.teardown(() => local.destroy());
  await greeted(local);
  t.ok((await local.cmd('QUIT')).ok);
  t.match(await f.server.waitForLine(/proxy_command="local"/), /connected peer="127\.0\.0\.1" proxy="127\.0\.0\.1" proxy_command="local"/);
  const unknown = await connectWithHeader(port, Buffer.from('PROXY UNKNOWN\r\n'));
  t.teardown(() => unknown.destroy());
  await greeted(unknown);
  t.equal(f.server.lines.filter((l) => l.includes('proxy_command="local"')).length, 2);
});

t.test('refused or closed before the greeting: untrusted peer, malformed, truncated, late, bad checksum', async (t) => {
  const f = await setUp(t);
  const port = f.server.portOf('pop3');
  const forged = await connectWithHeader(port, v1('203.0.113.7', 40001), { localAddress: '127.0.0.2' });
  t.equal(await forged.readToClose(), '', 'an untrusted address gets not a byte, its forged header unread');
  t.match(await f.server.waitForLine(/not a trusted proxy/), /connection refused: not a trusted proxy \(proxy_protocol\) peer="127\.0\.0\.2" listener="pop3"/);

  const cases: Array<[string, Buffer, RegExp, boolean]> = [
    ['no header, a command', Buffer.from('USER alice\r\n'), /malformed PROXY header: not a PROXY protocol header/, false],
    ['v1 with a leading zero', Buffer.from('PROXY TCP4 203.0.113.07 127.0.0.1 1 110\r\n'), /malformed PROXY header: an address that is not IPv4/, false],
    ['v2 with a wrong CRC32C', v2({ source: { address: '203.0.113.7', port: 1 }, crc: 'wrong' }), /CRC32C checksum mismatch/, false],
    ['v1 cut short, then FIN', Buffer.from('PROXY TCP4 203.0.113.7'), /PROXY header truncated: closed before its end/, true],
    ['v2 cut short, then FIN', v2({ source: { address: '203.0.113.7', port: 1 } }).subarray(0, 20), /PROXY header truncated/, true],
  ];
  for (const [what, bytes, reason, fin] of cases) {
    const before = f.server.lines.length;
    const c = await connectWithHeader(port, bytes);
    if (fin) c.end();
    t.equal(await c.readToClose(), '', `${what}: closed without a greeting`);
    await f.server.waitForLine(reason);
    t.ok(f.server.lines.slice(before).some((l) => reason.test(l) && l.includes('connection closed: no valid PROXY header')), `${what}: logged`);
  }

  const silent = await connectWithHeader(port, undefined);
  t.equal(await silent.readToClose(), '', 'nothing within proxy_protocol_timeout: closed');
  t.match(await f.server.waitForLine(/no PROXY header in time/), /proxy="127\.0\.0\.1" listener="pop3"/);
  t.notOk(f.server.lines.some((l) => /connected peer/.test(l)), 'none of these became a session');
  t.notOk(f.server.lines.some((l) => /error|failed/i.test(l) && !/PROXY header|login failed/.test(l)), 'no internal error');
});

t.test('a command in the same segment as the header is read after it', async (t) => {
  const f = await setUp(t);
  const c = await connectWithHeader(f.server.portOf('pop3'), Buffer.concat([v1('203.0.113.7', 5), Buffer.from('USER alice\r\nPASS pw\r\n')]));
  t.teardown(() => c.destroy());
  await greeted(c);
  t.ok((await c.readStatus()).ok, 'USER');
  t.match((await c.readStatus()).text, /alice has 1 message/, 'PASS');
});

t.test('max_connections_per_address counts the client of the header, not the proxy', async (t) => {
  const f = await setUp(t, 'auth_failure_delay_ms = 0  max_connections_per_address = 2');
  const port = f.server.portOf('pop3');
  const held: Pop3Client[] = [];
  t.teardown(() => held.forEach((c) => c.destroy()));
  for (let i = 0; i < 2; i++) {
    const c = await connectWithHeader(port, v1('203.0.113.7', 100 + i));
    held.push(c);
    await greeted(c);
  }
  const third = await connectWithHeader(port, v1('203.0.113.7', 102));
  held.push(third);
  t.same(await third.readStatus(), { ok: false, text: '[SYS/TEMP] too many connections, try again later' });
  t.match(await f.server.waitForLine(/connection refused: max_connections_per_address/), /peer="203\.0\.113\.7"/);
  const other = await connectWithHeader(port, v1('203.0.113.8', 103));
  held.push(other);
  await greeted(other);
  t.pass('another client through the same proxy is admitted');
  held[0]?.destroy();
  await f.server.waitForLine(/disconnected/);
  const again = await connectWithHeader(port, v1('203.0.113.7', 104));
  held.push(again);
  await greeted(again);
  t.pass('the slot comes back when that session is over');
});

t.test('failed-login penalties are keyed by the client of the header', async (t) => {
  const f = await setUp(t, 'auth_failure_delay_ms = 20  auth_penalty_max_ms = 10000');
  const port = f.server.portOf('pop3');
  const delays: string[] = [];
  for (const [address, user] of [['203.0.113.7', 'nobody1'], ['203.0.113.7', 'nobody2'], ['203.0.113.7', 'nobody3'], ['203.0.113.8', 'nobody4']] as const) {
    const c = await connectWithHeader(port, v1(address, 1));
    t.teardown(() => c.destroy());
    await greeted(c);
    t.notOk((await c.login(user, 'wrong')).ok);
    const line = await f.server.waitForLine(new RegExp(`login failure delay delayMs="\\d+"`));
    delays.push(line);
    f.server.lines.splice(f.server.lines.indexOf(line), 1);
  }
  t.same(delays.map((l) => /delayMs="(\d+)"/.exec(l)?.[1]), ['20', '40', '80', '20'], 'doubling for 203.0.113.7, not for 203.0.113.8');
});

t.test('v2 SSL TLV: TLS ended at the proxy counts for plaintext_auth and shows in tls=', async (t) => {
  const f = await setUp(t);
  const port = f.server.portOf('tlsonly');
  const plain = await connectWithHeader(port, v2({ source: { address: '203.0.113.7', port: 1 } }));
  t.teardown(() => plain.destroy());
  await greeted(plain);
  t.same(await plain.cmd('USER alice'), { ok: false, text: '[AUTH] TLS required: use STLS or the POP3S port' }, 'no SSL TLV: plaintext');
  const notSsl = await connectWithHeader(port, v2({ source: { address: '203.0.113.7', port: 2 }, tlvs: [sslTlv('TLSv1.3', undefined, 0x00)] }));
  t.teardown(() => notSsl.destroy());
  await greeted(notSsl);
  t.notOk((await notSsl.cmd('USER alice')).ok, 'an SSL TLV without PP2_CLIENT_SSL: plaintext');

  const tls = await connectWithHeader(port, v2({ source: { address: '203.0.113.7', port: 3 }, tlvs: [sslTlv('TLSv1.3', 'TLS_AES_256_GCM_SHA384')], crc: 'right' }));
  t.teardown(() => tls.destroy());
  await greeted(tls);
  t.ok((await tls.login('alice', 'pw')).ok, 'PP2_CLIENT_SSL: logged in');
  t.match(await f.server.waitForLine(/connected peer="203\.0\.113\.7" port="3"/), /tls="proxy TLSv1\.3 TLS_AES_256_GCM_SHA384"/);
  await tls.cmd('QUIT');
  t.match(await f.server.waitForLine(/disconnected: peer quit/), /tls="proxy TLSv1\.3 TLS_AES_256_GCM_SHA384"/);
  const capa = await plain.cmd('CAPA');
  t.notOk(capa.lines?.includes('USER'), 'CAPA hides USER without TLS');
});

t.test('implicit TLS with proxy_protocol: the header first, then the handshake', async (t) => {
  const f = await setUp(t);
  const c = await connectWithHeader(f.server.portOf('pop3s'), v1('203.0.113.7', 995), { ca: readFileSync(certs.ca, 'utf8') });
  t.teardown(() => c.destroy());
  await greeted(c);
  t.ok((await c.login('alice', 'pw')).ok);
  t.match(await f.server.waitForLine(/connected peer="203\.0\.113\.7"/), /proxy="127\.0\.0\.1" listener="pop3s" tls="TLSv1\.[23] /);
});

t.test('a listener without proxy_protocol serves a header as a bad command', async (t) => {
  const f = await setUp(t);
  const c = await connectWithHeader(f.server.portOf('direct'), undefined);
  t.teardown(() => c.destroy());
  await greeted(c);
  t.notOk((await c.cmd('PROXY TCP4 203.0.113.7 127.0.0.1 1 110')).ok);
  t.same(await c.login('alice', 'pw'), { ok: false, text: '[AUTH] Authentication failed' }, 'the peer stays 127.0.0.1');
});

t.test('SIGHUP (reconfigure) applies a new trusted_proxies to new connections', async (t) => {
  const f = await setUp(t);
  const port = f.server.portOf('pop3');
  const text = testConfigText({ database: f.db.name, maildirRoot: f.mail.path, query: QUERY, listeners: LISTENERS.replace('"127.0.0.1/32", "::1"', '"127.0.0.2"') });
  f.server.server.reconfigure(parseConfigText(text, process.cwd(), {}, 2));
  const before = await connectWithHeader(port, v1('203.0.113.7', 1), { localAddress: '127.0.0.1' });
  t.equal(await before.readToClose(), '', '127.0.0.1 is no longer trusted');
  const now = await connectWithHeader(port, v1('203.0.113.7', 2), { localAddress: '127.0.0.2' });
  t.teardown(() => now.destroy());
  await greeted(now);
  t.match(await f.server.waitForLine(/connected peer="203\.0\.113\.7" port="2"/), /proxy="127\.0\.0\.2"/);
});
