import t from 'tap';
import { createHash } from 'node:crypto';
import { tlsFixture } from '../helpers/tls-fixture';
import { asServed, putMessage, sampleMessage } from '../helpers/maildir';
import { run } from '../helpers/run';

// Each real client logs in over TLS (STLS or implicit) and downloads a message byte-exact.
const MESSAGE = sampleMessage(7, 40) + 'Trailing: line with 8-bit \xe9\n';
const served = asServed(Buffer.from(MESSAGE, 'latin1'));

async function setup(t: Parameters<typeof tlsFixture>[0]) {
  const f = await tlsFixture(t);
  const md = f.mail.maildir('tls');
  putMessage(md, Buffer.from(MESSAGE, 'latin1'));
  await f.db.addUser('tls@example.com', 'secret', md);
  return f;
}

/** The RETR body inside an s_client transcript: between "+OK N octets" and the terminator. */
function retrBody(transcript: Buffer): Buffer {
  const text = transcript.toString('latin1');
  const head = /\+OK (\d+) octets\r\n/.exec(text);
  if (head === null) throw new Error(`no RETR reply in: ${text.slice(0, 500)}`);
  const start = head.index + head[0].length;
  const end = text.indexOf('\r\n.\r\n', start);
  return Buffer.from(text.slice(start, end + 2), 'latin1');
}

t.test('openssl s_client -starttls pop3 and -connect (implicit)', async (t) => {
  const f = await setup(t);
  const script = 'USER tls@example.com\nPASS secret\nRETR 1\nQUIT\n';
  const common = ['-CAfile', f.certs.ca, '-verify_return_error', '-quiet', '-crlf', '-ign_eof', '-servername', 'localhost'];
  const stls = await run('openssl', ['s_client', '-starttls', 'pop3', '-connect', `127.0.0.1:${f.stlsPort}`, ...common], { input: script });
  t.equal(stls.code, 0, stls.stderr);
  t.equal(retrBody(stls.stdout).toString('latin1'), served.toString('latin1'), 'STLS: byte-exact');
  const implicit = await run('openssl', ['s_client', '-connect', `127.0.0.1:${f.implicitPort}`, ...common], { input: script });
  t.equal(implicit.code, 0, implicit.stderr);
  t.match(implicit.stdout.toString('latin1'), /^\+OK r2d2/, 'the greeting comes after the handshake');
  t.equal(retrBody(implicit.stdout).toString('latin1'), served.toString('latin1'), 'implicit: byte-exact');
  await f.server.waitForLine(/disconnected: peer quit, sequence="\^?upr\w*q" delays="0" tls="TLSv1\.3 /);
});

t.test('curl --ssl-reqd (STLS) and pop3s://', async (t) => {
  const f = await setup(t);
  const auth = ['-s', '-S', '--cacert', f.certs.ca, '--user', 'tls@example.com:secret'];
  const stls = await run('curl', [...auth, '--ssl-reqd', `pop3://localhost:${f.stlsPort}/1`]);
  t.equal(stls.code, 0, stls.stderr);
  t.equal(stls.stdout.toString('latin1'), served.toString('latin1'));
  const implicit = await run('curl', [...auth, `pop3s://localhost:${f.implicitPort}/1`]);
  t.equal(implicit.code, 0, implicit.stderr);
  t.equal(implicit.stdout.toString('latin1'), served.toString('latin1'));
  const plain = await run('curl', ['-s', '--user', 'tls@example.com:secret', `pop3://localhost:${f.stlsPort}/1`]);
  t.not(plain.code, 0, 'without TLS the login is refused (plaintext_auth = never)');
});

t.test("Python poplib: POP3.stls() and POP3_SSL", async (t) => {
  const f = await setup(t);
  const script = `
import poplib, ssl, hashlib
ctx = ssl.create_default_context(cafile=${JSON.stringify(f.certs.ca)})
out = []
p = poplib.POP3('localhost', ${f.stlsPort}, timeout=20)
p.stls(context=ctx)
p.user('tls@example.com'); p.pass_('secret')
resp, lines, octets = p.retr(1)
out.append(hashlib.sha256(b''.join(l + b'\\r\\n' for l in lines)).hexdigest())
p.quit()
s = poplib.POP3_SSL('localhost', ${f.implicitPort}, context=ctx, timeout=20)
s.user('tls@example.com'); s.pass_('secret')
resp, lines, octets = s.retr(1)
out.append(hashlib.sha256(b''.join(l + b'\\r\\n' for l in lines)).hexdigest())
s.quit()
print(' '.join(out))
`;
  const r = await run('python3', ['-c', script]);
  t.equal(r.code, 0, r.stderr);
  const digest = createHash('sha256').update(served).digest('hex');
  t.equal(r.stdout.toString().trim(), `${digest} ${digest}`);
});
