// TLS hardening seen through openssl s_client: client-initiated renegotiation is refused on the
// implicit-TLS port and after STLS; TLS 1.2 offers only ECDHE key exchange with AEAD suites
// unless `ciphers` says otherwise; TLS 1.3 is untouched by either.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { tlsFixture, type TlsFixture } from '../helpers/tls-fixture';
import { fixture } from '../helpers/fixture';
import { makeCertificates } from '../helpers/certificates';
import { run } from '../helpers/run';
import { SClient } from '../helpers/s-client';

/** A POP3S greeting over a fresh Node TLS connection: the server still serves. */
function greeting(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ port, host: '127.0.0.1', ca: readFileSync(ca), servername: 'localhost' });
    s.setTimeout(10_000, () => s.destroy(new Error('no greeting')));
    s.once('data', (d: Buffer) => {
      resolve(d.toString('latin1'));
      s.end('QUIT\r\n');
    });
    s.once('error', reject);
  });
}

function modes(f: TlsFixture): ReadonlyArray<readonly [string, readonly string[]]> {
  return [
    ['implicit TLS', ['-connect', `127.0.0.1:${f.implicitPort}`]],
    ['STLS', ['-starttls', 'pop3', '-connect', `127.0.0.1:${f.stlsPort}`]],
  ];
}

t.test('TLS 1.2: a client-initiated renegotiation is refused; the server goes on serving', async (t) => {
  const f = await tlsFixture(t);
  for (const [mode, connect] of modes(f)) {
    const c = new SClient(t, [...connect, '-tls1_2', '-msg', '-crlf', '-CAfile', f.certs.ca, '-servername', 'localhost']);
    c.write('CAPA');
    t.ok(await c.waitFor(/^\.\r?$/m), `${mode}: CAPA answered inside TLS`);
    t.equal(c.count(/, ServerHello$/), 1, `${mode}: one handshake so far`);
    c.write('R'); // s_client renegotiates on a line "R"
    c.write('CAPA');
    const answered = await c.waitFor(/^\.\r?$[\s\S]*^\.\r?$/m);
    t.notOk(answered, `${mode}: no CAPA answered after the renegotiation attempt`);
    t.equal(c.count(/, ServerHello$/), 1, `${mode}: no second handshake`);
    t.match(c.text, /no_renegotiation/, `${mode}: the server says no_renegotiation`);
    t.not(await c.finish(), 0, `${mode}: s_client ends with the failed renegotiation`);
  }
  t.match(await greeting(f.implicitPort, f.certs.ca), /^\+OK r2d2/, 'a new client is greeted');
});

async function handshake(args: readonly string[]): Promise<{ code: number | null; text: string }> {
  const r = await run('openssl', ['s_client', ...args], { input: 'QUIT\r\n', timeoutMs: 15_000 });
  return { code: r.code, text: r.stdout.toString('latin1') + r.stderr };
}

t.test('TLS 1.2 by default: ECDHE with AES-GCM or ChaCha20-Poly1305 only; TLS 1.3 as before', async (t) => {
  const f = await tlsFixture(t);
  for (const [mode, connect] of modes(f)) {
    const common = [...connect, '-CAfile', f.certs.ca, '-servername', 'localhost'];
    for (const cipher of ['AES128-SHA', 'AES256-GCM-SHA384', 'ECDHE-RSA-AES128-SHA', 'ECDHE-RSA-AES256-SHA384', 'DHE-RSA-AES128-GCM-SHA256']) {
      const refused = await handshake([...common, '-tls1_2', '-cipher', cipher]);
      t.not(refused.code, 0, `${mode}: ${cipher} refused`);
      t.notMatch(refused.text, new RegExp(`Cipher is ${cipher}\\b`), `${mode}: ${cipher} never negotiated`);
    }
    for (const cipher of ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-RSA-CHACHA20-POLY1305']) {
      const good = await handshake([...common, '-tls1_2', '-cipher', cipher]);
      t.match(good.text, new RegExp(`New, TLSv1\\.2, Cipher is ${cipher}\\b`), `${mode}: ${cipher} works`);
    }
    const tls13 = await handshake([...common, '-tls1_3']);
    t.match(tls13.text, /New, TLSv1\.3, Cipher is TLS_AES_256_GCM_SHA384/, `${mode}: TLS 1.3 unchanged`);
  }
});

t.test('`ciphers` still overrides the TLS 1.2 list (and leaves TLS 1.3 alone)', async (t) => {
  const certs = makeCertificates();
  t.teardown(() => certs.remove());
  const f = await fixture(t, {
    listeners: `listen "pop3s" { address = "127.0.0.1"  port = 0  tls = implicit  certificate = "${certs.cert}"  private_key = "${certs.key}"  ciphers = "AES128-SHA" }`,
  });
  const common = ['-connect', `127.0.0.1:${f.server.portOf('pop3s')}`, '-CAfile', certs.ca, '-servername', 'localhost'];
  t.match((await handshake([...common, '-tls1_2', '-cipher', 'AES128-SHA'])).text, /New, \S+, Cipher is AES128-SHA\b/);
  t.not((await handshake([...common, '-tls1_2', '-cipher', 'ECDHE-RSA-AES128-GCM-SHA256'])).code, 0, 'only what ciphers names');
  t.match((await handshake([...common, '-tls1_3'])).text, /New, TLSv1\.3, Cipher is TLS_/);
});
