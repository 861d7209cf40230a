import t from 'tap';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { readFileSync } from 'node:fs';
import { tlsFixture } from '../helpers/tls-fixture';
import { putMessage, sampleMessage } from '../helpers/maildir';

function secureOver(socket: Socket | undefined, port: number, ca: string, extra: Record<string, unknown> = {}): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ ...(socket ? { socket } : { port, host: '127.0.0.1' }), ca: readFileSync(ca), servername: 'localhost', ...extra });
    s.once('secureConnect', () => resolve(s));
    s.once('error', reject);
  });
}

function readAll(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('close', () => resolve(text));
    socket.on('error', () => undefined);
  });
}

t.test('CAPA and the plaintext policy on an STLS listener', async (t) => {
  const f = await tlsFixture(t);
  await f.db.addUser('u', 'pw', f.mail.maildir('u'));
  const c = await f.client();
  const capa = await c.cmd('CAPA');
  t.ok(capa.lines?.includes('STLS'));
  t.notOk(capa.lines?.includes('USER'), 'USER not offered before TLS');
  t.same(await c.cmd('USER u'), { ok: false, text: '[AUTH] TLS required: use STLS or the POP3S port' });
  t.same(await c.cmd('PASS pw'), { ok: false, text: '[AUTH] TLS required: use STLS or the POP3S port' });
});

t.test('STLS: commands pipelined after it in plaintext are discarded, never executed', async (t) => {
  const f = await tlsFixture(t);
  const raw = tcpConnect(f.stlsPort, '127.0.0.1');
  let seen = '';
  await new Promise<void>((resolve) => {
    raw.on('data', function onData(d: Buffer) {
      seen += d.toString('latin1');
      if (seen.includes('+OK r2d2') && seen.endsWith('\r\n')) {
        raw.off('data', onData);
        resolve();
      }
    });
  });
  raw.write('STLS\r\nCAPA\r\n'); // one write: CAPA is the injected command
  await new Promise<void>((resolve) => {
    let reply = '';
    raw.on('data', function onData(d: Buffer) {
      reply += d.toString('latin1');
      if (reply.endsWith('\r\n')) {
        raw.off('data', onData);
        t.equal(reply, '+OK Begin TLS negotiation\r\n', 'only the STLS reply in plaintext');
        resolve();
      }
    });
  });
  const secure = await secureOver(raw, 0, f.certs.ca);
  const rest = readAll(secure);
  secure.write('QUIT\r\n');
  t.equal(await rest, '+OK r2d2 signing off\r\n', 'no CAPA reply inside TLS either');
  await f.server.waitForLine(/disconnected: peer quit, sequence="\^q" delays="0" tls="TLSv1\.3 /);
});

t.test('STLS inside TLS, after login, and on the implicit port is -ERR; STLS restarts AUTHORIZATION', async (t) => {
  const f = await tlsFixture(t);
  const md = f.mail.maildir('u');
  putMessage(md, sampleMessage(1));
  await f.db.addUser('u', 'pw', md);
  const implicit = await secureOver(undefined, f.implicitPort, f.certs.ca);
  const transcript = readAll(implicit);
  implicit.write('CAPA\r\nSTLS\r\nUSER u\r\nPASS pw\r\nSTLS\r\nQUIT\r\n');
  const text = await transcript;
  t.notMatch(text, /\r\nSTLS\r\n/, 'STLS not offered inside TLS');
  t.match(text, /\r\nUSER\r\n/, 'USER offered inside TLS');
  t.match(text, /-ERR already inside TLS\r\n\+OK send PASS\r\n\+OK u has 1 message/);
  t.match(text, /-ERR STLS is not valid in this state\r\n\+OK r2d2 signing off/);
});

t.test('implicit TLS: a plaintext client gets no greeting; a stalled handshake times out; others are unaffected', async (t) => {
  const f = await tlsFixture(t, { handshakeTimeout: 1 });
  await f.db.addUser('u', 'pw', f.mail.maildir('u'));
  const plain = tcpConnect(f.implicitPort, '127.0.0.1');
  const plainText = readAll(plain);
  plain.write('CAPA\r\n');
  t.notMatch(await plainText, /\+OK/, 'no POP3 greeting in plaintext');
  await f.server.waitForLine(/tls handshake failed .*listener="pop3s"/);

  const stalled = tcpConnect(f.implicitPort, '127.0.0.1');
  const stalledText = readAll(stalled);
  const good = await secureOver(undefined, f.implicitPort, f.certs.ca);
  const goodText = readAll(good);
  good.write('USER u\r\nPASS pw\r\nQUIT\r\n');
  t.match(await goodText, /\+OK u has 0 messages/, 'a good session goes on meanwhile');
  t.equal(await stalledText, '', 'the stalled connection is closed without a byte');
  await f.server.waitForLine(/tls handshake failed .*reason="handshake timed out"/);
});

t.test('a client that sends STLS and then closes', async (t) => {
  const f = await tlsFixture(t);
  const c = await f.client();
  t.same(await c.cmd('STLS'), { ok: true, text: 'Begin TLS negotiation' });
  c.end();
  await f.server.waitForLine(/tls handshake failed after STLS/);
  await f.server.waitForLine(/disconnected: peer closed, sequence="\^" delays="0"$/);
});

t.test('SNI picks the certificate; TLS 1.1 is refused by default', async (t) => {
  const f = await tlsFixture(t);
  const other = await secureOver(undefined, f.implicitPort, f.certs.ca, { servername: 'other.test' });
  t.equal(other.getPeerCertificate().subject.CN, 'other.test');
  other.destroy();
  const local = await secureOver(undefined, f.implicitPort, f.certs.ca);
  t.equal(local.getPeerCertificate().subject.CN, 'localhost');
  local.destroy();
  // The client allows TLS 1.1 (security level 0), so a failure is the server's refusal.
  await t.rejects(secureOver(undefined, f.implicitPort, f.certs.ca, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }));
  await f.server.waitForLine(/tls handshake failed .*reason=".*(unsupported protocol|version)/i);
});

t.test('the greeting and a session over implicit TLS', async (t) => {
  const f = await tlsFixture(t);
  const s = await secureOver(undefined, f.implicitPort, f.certs.ca);
  const text = readAll(s);
  s.end('QUIT\r\n');
  t.match(await text, /^\+OK r2d2 ready\r\n\+OK r2d2 signing off\r\n$/);
});
