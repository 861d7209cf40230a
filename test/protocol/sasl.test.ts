import { readFileSync } from 'node:fs';
import t from 'tap';
import { fixture } from '../helpers/fixture';
import { LineSocket } from '../helpers/line-socket';
import { putMessage, sampleMessage } from '../helpers/maildir';
import { run } from '../helpers/run';
import { tlsFixture } from '../helpers/tls-fixture';

const plain = (authzid: string, user: string, password: string): string => Buffer.from(`${authzid}\0${user}\0${password}`).toString('base64');

async function setup(t: Parameters<typeof fixture>[0]) {
  const f = await fixture(t);
  const md = f.mail.maildir('alice');
  putMessage(md, sampleMessage(1));
  await f.db.addUser('alice@example.com', 'sécret pw', md);
  return f;
}

t.test('AUTH PLAIN with an initial response, and after a "+ " continuation (RFC 5034)', async (t) => {
  const f = await setup(t);
  const a = await f.client();
  const one = await a.cmd(`AUTH PLAIN ${plain('', 'alice@example.com', 'sécret pw')}`);
  t.ok(one.ok, one.text);
  t.match(one.text, /has 1 message/);
  t.ok((await a.cmd('STAT')).ok, 'in TRANSACTION');
  await a.cmd('QUIT');
  await a.waitClosed();

  const b = await f.client();
  b.send('AUTH PLAIN\r\n');
  t.equal(await b.readLine(), '+ ', 'the empty challenge');
  t.ok((await b.cmd(plain('alice@example.com', 'alice@example.com', 'sécret pw'))).ok, 'authzid equal to authcid is fine');
  await b.cmd('QUIT');
  await f.server.waitForLine(/disconnected: peer quit, sequence="aq" delays="0"/);
});

t.test('AUTH failures: wrong password, another authzid, cancel, bad base64, unknown mechanism', async (t) => {
  const f = await setup(t);
  const c = await f.client();
  t.same(await c.cmd(`AUTH PLAIN ${plain('', 'alice@example.com', 'wrong')}`), { ok: false, text: '[AUTH] Authentication failed' });
  t.same(await c.cmd(`AUTH PLAIN ${plain('bob', 'alice@example.com', 'sécret pw')}`), { ok: false, text: '[AUTH] Authentication failed' }, 'no acting as someone else');
  c.send('AUTH PLAIN\r\n');
  t.equal(await c.readLine(), '+ ');
  t.same(await c.cmd('*'), { ok: false, text: 'authentication cancelled' });
  t.same(await c.cmd('AUTH PLAIN !!notbase64'), { ok: false, text: 'invalid base64 in the SASL response' });
  t.same(await c.cmd(`AUTH PLAIN ${Buffer.from('no-nuls').toString('base64')}`), { ok: false, text: 'malformed PLAIN response' });
  t.same(await c.cmd('AUTH CRAM-MD5'), { ok: false, text: 'unsupported SASL mechanism' });
  t.same(await c.cmd('AUTH'), { ok: false, text: 'AUTH needs a mechanism (see CAPA: SASL PLAIN LOGIN)' });
  t.ok((await c.cmd(`AUTH PLAIN ${plain('', 'alice@example.com', 'sécret pw')}`)).ok, 'the session went on to a good login');
  t.same(await c.cmd('AUTH PLAIN x'), { ok: false, text: 'AUTH is not valid in this state' });
  t.notMatch(f.server.lines.join('\n'), /sécret|c8OpY3JldA/, 'neither the password nor its base64 is logged');
});

t.test('AUTH follows the plaintext policy: TLS required before STLS, offered inside TLS', async (t) => {
  const f = await tlsFixture(t);
  const c = await f.client();
  const capa = await c.cmd('CAPA');
  t.notOk(capa.lines?.some((l) => l.startsWith('SASL')), 'no SASL before TLS');
  t.same(await c.cmd('AUTH PLAIN AGFsaWNlAHB3'), { ok: false, text: '[AUTH] TLS required: use STLS or the POP3S port' });
});

t.test('curl logs in with AUTH PLAIN and downloads the message', async (t) => {
  const f = await setup(t);
  const r = await run('curl', ['-s', '-S', '--login-options', 'AUTH=PLAIN', '--user', 'alice@example.com:sécret pw', `pop3://127.0.0.1:${f.server.port}/1`]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout.toString(), /^From: sender1@example.com\r\n/);
  await f.server.waitForLine(/disconnected: peer quit, sequence="carq"/);
});

const b64 = (s: string): string => Buffer.from(s).toString('base64');

t.test('AUTH LOGIN: the name and the password after their prompts, or the name as the initial response', async (t) => {
  const f = await setup(t);
  const a = await f.client();
  a.send('AUTH LOGIN\r\n');
  t.equal(await a.readLine(), '+ VXNlcm5hbWU6', 'base64 of "Username:"');
  a.send(`${b64('alice@example.com')}\r\n`);
  t.equal(await a.readLine(), '+ UGFzc3dvcmQ6', 'base64 of "Password:"');
  const one = await a.cmd(b64('sécret pw'));
  t.ok(one.ok, one.text);
  t.match(one.text, /^alice@example.com has 1 message/);
  await a.cmd('QUIT');
  await f.server.waitForLine(/disconnected: peer quit, sequence="aq"/);

  const b = await f.client();
  b.send(`AUTH LOGIN ${b64('alice@example.com')}\r\n`);
  t.equal(await b.readLine(), '+ UGFzc3dvcmQ6', 'the name as the initial response');
  t.same(await b.cmd(b64('wrong')), { ok: false, text: '[AUTH] Authentication failed' });
  await f.server.waitForLine(/login failed: bad credentials user="alice@example.com" peer="127.0.0.1"$/);
  b.send('AUTH LOGIN\r\n');
  t.equal(await b.readLine(), '+ VXNlcm5hbWU6');
  t.same(await b.cmd('*'), { ok: false, text: 'authentication cancelled' });
  b.send('AUTH LOGIN\r\n');
  await b.readLine();
  t.same(await b.cmd(b64('ali\r\nce')), { ok: false, text: 'malformed LOGIN user name' });
  t.same(await b.cmd('AUTH LOGIN ='), { ok: false, text: 'malformed LOGIN user name' }, 'an empty name');
  b.send(`AUTH LOGIN ${b64('alice@example.com')}\r\n`);
  await b.readLine();
  t.same(await b.cmd('!!'), { ok: false, text: 'invalid base64 in the SASL response' });
  t.notMatch(f.server.lines.join('\n'), /sécret|c8OpY3JldA|d3Jvbmc/, 'no password, plain or base64, is logged');
});

t.test('curl logs in with AUTH LOGIN and downloads the message', async (t) => {
  const f = await setup(t);
  const r = await run('curl', ['-s', '-S', '-v', '-K', '-', '--login-options', 'AUTH=LOGIN', `pop3://127.0.0.1:${f.server.port}/1`], {
    input: 'user = "alice@example.com:sécret pw"\n',
  });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /> AUTH LOGIN\r?\n/, 'curl used LOGIN');
  t.match(r.stdout.toString(), /^From: sender1@example.com\r\n/);
  await f.server.waitForLine(/disconnected: peer quit, sequence="carq"/);
});

t.test('AUTH LOGIN and the OAuth mechanisms follow the plaintext policy too', async (t) => {
  const f = await tlsFixture(t, { extra: 'oauth2 { jwks = "https://sso.example.test/certs"  issuer = "https://sso.example.test"  audience = pop3  maildrop_query_format_string = "SELECT maildir FROM mailbox WHERE username = %u" }' });
  const c = await f.client();
  for (const mechanism of ['LOGIN', 'OAUTHBEARER', 'XOAUTH2']) {
    t.same(await c.cmd(`AUTH ${mechanism}`), { ok: false, text: '[AUTH] TLS required: use STLS or the POP3S port' }, mechanism);
  }
  const wire = await LineSocket.connect(f.implicitPort, { ca: readFileSync(f.certs.ca) });
  t.teardown(() => wire.destroy());
  t.match((await wire.readLine())?.toString(), /^\+OK/);
  wire.send('CAPA\r\n');
  const lines: string[] = [];
  for (let line = await wire.readLine(); line !== undefined && line.toString() !== '.'; line = await wire.readLine()) lines.push(line.toString());
  t.ok(lines.includes('SASL PLAIN LOGIN OAUTHBEARER XOAUTH2'), 'inside TLS every mechanism is offered');
});
