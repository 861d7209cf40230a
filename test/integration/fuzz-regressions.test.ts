// Sessions the live fuzz (fuzz-live.test.ts) found to break the server, replayed exactly.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { tlsFixture } from '../helpers/tls-fixture';

const handshake = (socket: TLSSocket): Promise<void> =>
  new Promise((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });

/** A POP3 exchange over any socket: send a line, read the status line. */
async function exchange(socket: TLSSocket, line: string): Promise<string> {
  socket.write(line + '\r\n');
  return new Promise((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString('latin1'))));
}

// Found by the fuzz: a session inside TLS that ends without QUIT (the client drops, or times
// out) after logging in: the disconnect line was written after the maildrop lock's release,
// by which time the TLS socket was destroyed and getCipher() returned null -- a TypeError in an
// un-awaited promise (src/server/start-tls.ts describeTls), fatal to the thread serving it.
// Fixed in 853d385; since e7259e4 the line keeps the protocol and cipher from the handshake.
t.test('a TLS session that drops after login (STLS or POP3S) does not crash the server', async (t) => {
  const f = await tlsFixture(t);
  const ca = readFileSync(f.certs.ca);
  await f.db.addUser('drop', 'pw', f.mail.maildir('drop'));
  const raw = tcpConnect({ port: f.stlsPort, host: '127.0.0.1' });
  t.match(await new Promise<string>((resolve) => raw.once('data', (d: Buffer) => resolve(d.toString()))), /^\+OK/);
  raw.write('STLS\r\n');
  await new Promise((resolve) => raw.once('data', resolve));
  const stls = tlsConnect({ socket: raw, ca, servername: 'localhost' });
  await handshake(stls);
  t.match(await exchange(stls, 'USER drop'), /^\+OK/);
  t.match(await exchange(stls, 'PASS pw'), /^\+OK/);
  stls.destroy();
  const first = await f.server.waitForLine(/\[1\] disconnected: peer closed, sequence="\^up" delays="0" tls="/);
  t.match(first, /tls="TLSv1\.3 TLS_/, 'STLS: the disconnect line names the protocol and cipher');
  const implicit = tlsConnect({ port: f.implicitPort, host: '127.0.0.1', ca, servername: 'localhost' });
  await handshake(implicit);
  await new Promise((resolve) => implicit.once('data', resolve));
  t.match(await exchange(implicit, 'USER drop'), /^\+OK/);
  t.match(await exchange(implicit, 'PASS pw'), /^\+OK/);
  implicit.destroy();
  const second = await f.server.waitForLine(/\[2\] disconnected: peer closed, sequence="up" delays="0" tls="/);
  t.match(second, /tls="TLSv1\.3 TLS_/, 'POP3S: the disconnect line names the protocol and cipher');
  const c = await f.client();
  t.ok((await c.cmd('CAPA')).ok, 'the server still answers');
});
