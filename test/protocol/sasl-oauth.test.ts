// AUTH OAUTHBEARER (RFC 7628) and XOAUTH2 against a real server and MariaDB, with a JWKS file
// of keys made by openssl and tokens the test signs: good tokens of every algorithm log in,
// after "+ " or (where it fits) as the initial response; every kind of bad token gets RFC 7628's
// error challenge, then -ERR [AUTH]; malformed messages are refused at once; no token is logged.
import t, { type Test } from 'tap';
import { fixture, type Fixture } from '../helpers/fixture';
import { putMessage, sampleMessage } from '../helpers/maildir';
import {
  AUDIENCES,
  claimsFor,
  hmacToken,
  makeTokenKeys,
  oauth2Section,
  oauthBearer,
  sign,
  unsignedToken,
  xoauth2,
  type TokenKeys,
} from '../helpers/oauth2';
import type { Pop3Client } from '../helpers/pop3-client';
import { run } from '../helpers/run';

const ALICE = 'alice@example.com';
const NOW = () => Math.floor(Date.now() / 1000);

// One set of keys for the file: openssl's RSA key generation is the slow part.
const sharedKeys = makeTokenKeys();
t.teardown(() => sharedKeys.remove());

async function setup(t: Test): Promise<{ f: Fixture; keys: TokenKeys }> {
  const keys = sharedKeys;
  const f = await fixture(t, { extra: oauth2Section(`jwks = "${keys.jwksFile}"`) });
  const md = f.mail.maildir('alice');
  putMessage(md, sampleMessage(1));
  await f.db.addUser(ALICE, 'alice pw', md);
  await f.db.addUser('bob@example.com', 'bob pw', f.mail.maildir('bob'));
  return { f, keys };
}

type Mechanism = 'OAUTHBEARER' | 'XOAUTH2';
const message = (mechanism: Mechanism, user: string | undefined, token: string): string =>
  mechanism === 'OAUTHBEARER' ? oauthBearer(user, token) : xoauth2(user ?? ALICE, token);

/** AUTH, "+ ", the response; the status line or the error challenge that follows. */
async function authenticate(c: Pop3Client, mechanism: Mechanism, response: string): Promise<string> {
  c.send(`AUTH ${mechanism}\r\n`);
  const prompt = await c.readLine();
  if (prompt !== '+ ') throw new Error(`expected "+ ", got ${JSON.stringify(prompt)}`);
  c.send(`${response}\r\n`);
  return c.readLine();
}

/** The failure path: the challenge decoded, then the client's %x01 and the final -ERR. */
async function refusal(t: Test, c: Pop3Client, mechanism: Mechanism, response: string): Promise<unknown> {
  const line = await authenticate(c, mechanism, response);
  t.match(line, /^\+ [A-Za-z0-9+/]+=*$/, 'an error challenge, not a verdict');
  const challenge: unknown = JSON.parse(Buffer.from(line.slice(2), 'base64').toString());
  t.same(await c.cmd('AQ=='), { ok: false, text: '[AUTH] Authentication failed' }, 'the %x01 ends the exchange with [AUTH]');
  return challenge;
}

t.test('CAPA offers the OAuth mechanisms; a token after "+ " (a 1,500-octet response) logs in; nothing of it is logged', async (t) => {
  const { f, keys } = await setup(t);
  const c = await f.client();
  const capa = await c.cmd('CAPA');
  t.ok(capa.lines?.includes('SASL PLAIN LOGIN OAUTHBEARER XOAUTH2'), capa.lines?.join(' | ') ?? 'no CAPA lines');
  // Keycloak-sized: realm roles and groups make a token of well over a kilobyte.
  let token = '';
  let response = '';
  for (let pad = 0; response.length < 1500; pad += 40) {
    token = await sign(keys.rsa, claimsFor(ALICE, { groups: ['/staff', '/mail-users', 'x'.repeat(pad)] }));
    response = oauthBearer(ALICE, token);
  }
  t.ok(response.length >= 1500 && response.length < 1600, `a ${response.length}-octet response line`);
  const reply = await authenticate(c, 'OAUTHBEARER', response);
  t.equal(reply, `+OK ${ALICE} has 1 message (${sampleMessage(1).replace(/\n/g, '\r\n').length} octets)`);
  t.ok((await c.cmd('STAT')).ok, 'in TRANSACTION');
  await c.cmd('QUIT');
  await f.server.waitForLine(/disconnected: peer quit, sequence="casq"/);
  const log = f.server.lines.join('\n');
  t.match(log, new RegExp(`login ok user="${ALICE}" messages="1"`));
  const signature = token.split('.')[2] ?? '';
  t.notOk(log.includes(signature.slice(0, 20)) || log.includes(token.slice(0, 40)) || log.includes(response.slice(0, 40)), 'neither the token nor the response is logged');
});

t.test('every algorithm and either audience; XOAUTH2 too; an authzid-less OAUTHBEARER takes the token\'s user', async (t) => {
  const { f, keys } = await setup(t);
  const cases: Array<[string, Mechanism, string | undefined, Promise<string>]> = [
    ['RS256', 'OAUTHBEARER', ALICE, sign(keys.rsa, claimsFor(ALICE))],
    ['ES256', 'OAUTHBEARER', ALICE, sign(keys.ec, claimsFor(ALICE))],
    ['EdDSA', 'XOAUTH2', ALICE, sign(keys.ed, claimsFor(ALICE))],
    ['second audience in a list', 'XOAUTH2', 'ALICE@example.com', sign(keys.ec, claimsFor(ALICE, { aud: ['account', AUDIENCES[1]] }))],
    ['no authzid', 'OAUTHBEARER', undefined, sign(keys.ed, claimsFor(ALICE))],
    ['no kid: the one key of its type', 'OAUTHBEARER', ALICE, sign(keys.ed, claimsFor(ALICE), null)],
  ];
  for (const [label, mechanism, user, token] of cases) {
    const c = await f.client();
    const reply = await authenticate(c, mechanism, message(mechanism, user, await token));
    t.match(reply, new RegExp(`^\\+OK ${ALICE} has 1 message`), label);
    await c.cmd('QUIT');
    await c.waitClosed();
  }
});

t.test('refused tokens: the RFC 7628 error challenge, then -ERR [AUTH]; the reason is logged', async (t) => {
  const { f, keys } = await setup(t);
  const now = NOW();
  const cases: Array<[string, RegExp, (m: Mechanism) => Promise<string>]> = [
    ['expired', /reason="expired"/, async (m) => message(m, ALICE, await sign(keys.rsa, claimsFor(ALICE, { exp: now - 3600, iat: now - 7200 })))],
    ['not yet valid', /reason="not yet valid"/, async (m) => message(m, ALICE, await sign(keys.ec, claimsFor(ALICE, { nbf: now + 3600 })))],
    ['wrong issuer', /reason="wrong issuer"/, async (m) => message(m, ALICE, await sign(keys.ed, claimsFor(ALICE, { iss: 'https://evil.example.test' })))],
    ['wrong audience', /reason="wrong audience"/, async (m) => message(m, ALICE, await sign(keys.rsa, claimsFor(ALICE, { aud: 'account' })))],
    ['bad signature (another key under a known kid)', /reason="bad signature"/, async (m) => message(m, ALICE, await sign(keys.stray, claimsFor(ALICE), keys.rsa.kid))],
    ['unknown kid', /reason="signed by an unknown key"/, async (m) => message(m, ALICE, await sign(keys.stray, claimsFor(ALICE)))],
    ['alg: none', /reason="algorithm not allowed"/, async (m) => message(m, ALICE, unsignedToken(claimsFor(ALICE)))],
    ['HS256 with the public key as the secret', /reason="algorithm not allowed"/, async (m) => message(m, ALICE, await hmacToken(keys.rsa, claimsFor(ALICE)))],
    ['no exp', /reason="claim exp: missing"/, async (m) => message(m, ALICE, await sign(keys.ec, claimsFor(ALICE, { exp: undefined })))],
    ['authzid differs from the token\'s user', /user="bob@example.com" mechanism="\w+" reason="the token is \\"alice@example.com\\"'s"/, async (m) => message(m, 'bob@example.com', await sign(keys.rsa, claimsFor(ALICE)))],
    ['no account for the token\'s user', /reason="no account for the token's user"/, async (m) => message(m, 'carol@example.com', await sign(keys.rsa, claimsFor('carol@example.com')))],
    ['email not verified', /reason="the email claim is not verified/, async (m) => message(m, ALICE, await sign(keys.rsa, claimsFor(ALICE, { email_verified: false })))],
    ['a token that is no JWT', /reason="not a JWT/, async (m) => message(m, ALICE, 'opaque-token-1234')],
  ];
  const c = await f.client();
  for (const mechanism of ['OAUTHBEARER', 'XOAUTH2'] as const) {
    for (const [label, reason, response] of cases) {
      const before = f.server.lines.length;
      const challenge = await refusal(t, c, mechanism, await response(mechanism));
      t.same(challenge, { status: mechanism === 'OAUTHBEARER' ? 'invalid_token' : '401', schemes: 'bearer' }, `${mechanism}, ${label}: the challenge`);
      const logged = f.server.lines.slice(before);
      t.ok(logged.some((l) => l.includes(`mechanism="${mechanism}"`) && reason.test(l)), `${mechanism}, ${label}: logged as ${reason}`);
      t.ok(logged.some((l) => / login failed: bad credentials user="[^"]*" peer="127\.0\.0\.1"$/.test(l)), `${mechanism}, ${label}: the fail2ban line`);
    }
  }
  t.ok((await authenticate(c, 'XOAUTH2', xoauth2(ALICE, await sign(keys.rsa, claimsFor(ALICE))))).startsWith('+OK'), 'the session went on to a good login');
  await c.cmd('QUIT');
  await f.server.waitForLine(new RegExp(`disconnected: peer quit, sequence="a${cases.length * 2 + 1}q"`));
});

t.test('malformed messages are refused at once, without a challenge; "*" cancels; the session goes on', async (t) => {
  const { f, keys } = await setup(t);
  const token = await sign(keys.rsa, claimsFor(ALICE));
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const c = await f.client();
  const cases: Array<[Mechanism, string, string]> = [
    ['OAUTHBEARER', b64(`auth=Bearer ${token}\x01\x01`), 'malformed OAUTHBEARER response: no GS2 header (n,a=user,)'],
    ['OAUTHBEARER', oauthBearer(undefined, token, 'p=tls-unique,,'), 'malformed OAUTHBEARER response: channel binding is not supported'],
    ['OAUTHBEARER', oauthBearer(undefined, token, 'n,a=al=ice,'), 'malformed OAUTHBEARER response: bad authzid in the GS2 header'],
    ['OAUTHBEARER', b64(`n,,\x01auth=Bearer ${token}`), 'malformed OAUTHBEARER response: does not end with ^A^A'],
    ['OAUTHBEARER', b64(`n,,auth=Bearer ${token}\x01\x01`), 'malformed OAUTHBEARER response: no ^A after the GS2 header'],
    ['OAUTHBEARER', b64(`n,,\x01auth=Basic YWxpY2U6cHc=\x01\x01`), 'malformed OAUTHBEARER response: auth= is not "Bearer <token>"'],
    ['OAUTHBEARER', b64('n,,\x01host=x\x01\x01'), 'malformed OAUTHBEARER response: no auth='],
    ['XOAUTH2', b64(`auth=Bearer ${token}\x01\x01`), 'malformed XOAUTH2 response: no user='],
    ['XOAUTH2', b64(`user=${ALICE}\x01auth=Bearer ${token}\x01auth=Bearer ${token}\x01\x01`), 'malformed XOAUTH2 response: auth= twice'],
    ['XOAUTH2', 'not base64!', 'invalid base64 in the SASL response'],
  ];
  for (const [mechanism, response, text] of cases) {
    t.equal(await authenticate(c, mechanism, response), `-ERR ${text}`, text);
  }
  c.send('AUTH OAUTHBEARER\r\n');
  t.equal(await c.readLine(), '+ ');
  t.same(await c.cmd('*'), { ok: false, text: 'authentication cancelled' });
  t.ok((await authenticate(c, 'OAUTHBEARER', oauthBearer(ALICE, token))).startsWith('+OK'), 'then a good login');
  t.notOk(f.server.lines.some((l) => l.includes('login failed')), 'a malformed message is no failed login');
});

t.test('RFC 5034 §4: an AUTH line over 255 octets is refused; an initial response that fits is taken', async (t) => {
  const { f, keys } = await setup(t);
  const token = await sign(keys.ed, claimsFor(ALICE));
  const c = await f.client();
  const long = `AUTH OAUTHBEARER ${oauthBearer(ALICE, token)}`;
  t.ok(long.length + 2 > 255, `${long.length + 2} octets`);
  t.same(await c.cmd(long), { ok: false, text: 'command line too long' });
  t.same(await c.cmd(`AUTH XOAUTH2 ${xoauth2(ALICE, token)}`), { ok: false, text: 'command line too long' });
  // A JWT never fits in 255 octets with its claims; an initial response that fits is judged as such.
  const opaque = `AUTH OAUTHBEARER ${oauthBearer(ALICE, 'opaque-1234')}`;
  t.ok(opaque.length + 2 <= 255);
  c.send(`${opaque}\r\n`);
  t.match(await c.readLine(), /^\+ /, 'the initial response was read and refused with the challenge');
  t.same(await c.cmd('AQ=='), { ok: false, text: '[AUTH] Authentication failed' });
  t.ok((await authenticate(c, 'OAUTHBEARER', oauthBearer(ALICE, token))).startsWith('+OK'), 'the same token after "+ " logs in');
  await c.cmd('QUIT');
  await f.server.waitForLine(/disconnected: peer quit, sequence="!2a2q"/);
});

t.test('curl --oauth2-bearer logs in over POP3 with OAUTHBEARER and downloads the message', async (t) => {
  const { f, keys } = await setup(t);
  const token = await sign(keys.rsa, claimsFor(ALICE));
  // The token goes to curl through its config on stdin, not its command line. curl 7.88 sends
  // OAUTHBEARER whenever the server offers it (even with --login-options AUTH=XOAUTH2), so
  // XOAUTH2 is exercised by the byte-level tests above.
  const config = `user = "${ALICE}:"\noauth2-bearer = "${token}"\n`;
  const r = await run('curl', ['-s', '-S', '-v', '-K', '-', `pop3://127.0.0.1:${f.server.port}/1`], { input: config });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout.toString(), /^From: sender1@example.com\r\n/);
  t.match(r.stderr, /> AUTH OAUTHBEARER\r?\n/, 'curl chose OAUTHBEARER, its response after "+ "');
  await f.server.waitForLine(/disconnected: peer quit, sequence="carq"/);
  t.ok(f.server.lines.some((l) => l.includes(`login ok user="${ALICE}"`)));
  t.notOk(f.server.lines.some((l) => l.includes(token.slice(-30))), 'the token is not logged');
});
