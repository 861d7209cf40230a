import t from 'tap';
import { fixture } from '../helpers/fixture';
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
