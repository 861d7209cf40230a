// Token logins against a provider over https (a local node:https server with its own CA, trusted
// through jwks_ca): the JWKS is fetched and cached, the provider rotates its key and the new kid
// is fetched, but a second unknown kid within a minute is not; opaque tokens go to the RFC 7662
// introspection endpoint with the client credentials from a secret file.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { makeCertificates } from '../helpers/certificates';
import { fixture, type Fixture } from '../helpers/fixture';
import { putMessage, sampleMessage } from '../helpers/maildir';
import { AUDIENCE, claimsFor, ISSUER, jwksOf, makeTokenKeys, oauth2Section, oauthBearer, opensslKey, sign, xoauth2, type TokenKeys } from '../helpers/oauth2';
import { CLIENT_ID, CLIENT_SECRET, INTROSPECTION_PATH, JWKS_PATH, TestProvider } from '../helpers/oauth2-provider';
import { Pop3Client } from '../helpers/pop3-client';
import { accountsOn, SpawnedServer, spawnedConfigOf } from '../helpers/spawned-server';
import { databaseAndMail } from '../helpers/test-resources';

const ALICE = 'alice@example.com';

interface Setup {
  readonly f: Fixture;
  readonly keys: TokenKeys;
  readonly provider: TestProvider;
}

// One CA, server certificate and set of signing keys for the file (openssl's RSA keys are the slow part).
const certs = makeCertificates();
const tokenKeys = makeTokenKeys();
t.teardown(() => {
  certs.remove();
  tokenKeys.remove();
});

/** A CA that signed nothing here: trusting it must not make the provider trusted. */
function strangerCa(): string {
  const file = join(tokenKeys.dir, 'stranger-ca.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(tokenKeys.dir, 'stranger-ca.key'), '-out', file, '-days', '1', '-subj', '/CN=stranger CA'], { stdio: 'pipe' });
  return file;
}

async function setup(t: Test, keys: (provider: TestProvider, secretFile: string) => string): Promise<Setup> {
  const provider = await TestProvider.start(certs);
  t.teardown(() => provider.close());
  const secretFile = join(tokenKeys.dir, 'introspection-secret');
  writeFileSync(secretFile, `${CLIENT_SECRET}\n`, { mode: 0o600 });
  const f = await fixture(t, { extra: oauth2Section(`jwks_ca = "${certs.ca}"\n  ${keys(provider, secretFile)}`) });
  const md = f.mail.maildir('alice');
  putMessage(md, sampleMessage(1));
  await f.db.addUser(ALICE, 'alice pw', md);
  return { f, keys: tokenKeys, provider };
}

/** One login attempt on a new connection: '+OK ...' or the decoded error challenge's status. */
async function attempt(f: Fixture, response: string, initial = false): Promise<string> {
  const c = await f.client();
  try {
    if (initial) c.send(`AUTH OAUTHBEARER ${response}\r\n`);
    else {
      c.send('AUTH OAUTHBEARER\r\n');
      await c.readLine();
      c.send(`${response}\r\n`);
    }
    const line = await c.readLine();
    if (line.startsWith('+ ')) {
      const status = (JSON.parse(Buffer.from(line.slice(2), 'base64').toString()) as { status: string }).status;
      const final = await c.cmd('AQ==');
      return `${status} ${final.text}`;
    }
    await c.cmd('QUIT');
    return line;
  } finally {
    c.destroy();
  }
}

t.test('a JWKS over https with a private CA: fetched once, the rotated key fetched on its new kid, a second unknown kid within a minute not', async (t) => {
  const { f, keys, provider } = await setup(t, (p) => `jwks = "${p.url(JWKS_PATH)}"`);
  provider.jwks = jwksOf(keys.rsa);
  t.equal(provider.jwksRequests, 0, 'nothing is fetched before a token comes');
  t.match(await attempt(f, oauthBearer(ALICE, await sign(keys.rsa, claimsFor(ALICE)))), /^\+OK alice@example.com has 1 message/);
  t.match(await attempt(f, oauthBearer(ALICE, await sign(keys.rsa, claimsFor(ALICE)))), /^\+OK/);
  t.equal(provider.jwksRequests, 1, 'the keys are cached');

  // The provider rotates: a new key, the old one gone.
  const next = opensslKey(keys.dir, 'rsa-2', 'RS256');
  provider.jwks = jwksOf(next);
  t.match(await attempt(f, oauthBearer(ALICE, await sign(next, claimsFor(ALICE)))), /^\+OK/, 'a token of the new key logs in');
  t.equal(provider.jwksRequests, 2, 'its unknown kid fetched the keys again');
  t.equal(await attempt(f, oauthBearer(ALICE, await sign(keys.rsa, claimsFor(ALICE)))), 'invalid_token [AUTH] Authentication failed', 'the retired key no longer works');
  t.equal(await attempt(f, oauthBearer(ALICE, await sign(keys.stray, claimsFor(ALICE)))), 'invalid_token [AUTH] Authentication failed', 'an unknown kid is refused');
  t.equal(provider.jwksRequests, 2, 'and within a minute of the last refresh it fetched nothing');
  await f.server.waitForLine(/token refused user="alice@example.com" mechanism="OAUTHBEARER" reason="signed by an unknown key"/);
  t.equal(f.server.lines.filter((l) => /oauth2 keys loaded jwks="https:\/\/localhost:\d+\/realms\/mail\/protocol\/openid-connect\/certs"/.test(l)).length, 2);
});

t.test('the provider down: [SYS/TEMP] without a challenge, and no failed login counted', async (t) => {
  const { f, keys, provider } = await setup(t, (p) => `jwks = "${p.url('/no-such-path')}"`);
  const c = await f.client();
  c.send('AUTH XOAUTH2\r\n');
  await c.readLine();
  t.same(await c.cmd(xoauth2(ALICE, await sign(keys.ec, claimsFor(ALICE)))), { ok: false, text: '[SYS/TEMP] the token cannot be checked now, try again later' });
  await f.server.waitForLine(/oauth2 keys cannot be loaded jwks="https:\/\/localhost:\d+\/no-such-path" reason="localhost:\d+: HTTP 404"/);
  await f.server.waitForLine(/token cannot be checked now mechanism="XOAUTH2"/);
  t.notOk(f.server.lines.some((l) => l.includes('login failed')), 'no failed login counted');
  t.equal(provider.jwksRequests, 0, 'the JWKS path was never asked');
});

t.test('a provider whose certificate does not chain to jwks_ca is not trusted', async (t) => {
  const keys = tokenKeys;
  const provider = await TestProvider.start(certs);
  t.teardown(() => provider.close());
  provider.jwks = jwksOf(keys.rsa);
  const f = await fixture(t, { extra: oauth2Section(`jwks_ca = "${strangerCa()}"\n  jwks = "${provider.url(JWKS_PATH)}"`) });
  await f.db.addUser(ALICE, 'alice pw', f.mail.maildir('alice'));
  t.equal(await attempt(f, oauthBearer(ALICE, await sign(keys.rsa, claimsFor(ALICE)))), '-ERR [SYS/TEMP] the token cannot be checked now, try again later');
  await f.server.waitForLine(/oauth2 keys cannot be loaded jwks="[^"]+" reason="localhost:\d+: (unable to verify the first certificate|unable to get local issuer certificate)"/);
  t.equal(provider.jwksRequests, 0, 'no key was taken from an untrusted server');
});

t.test('RFC 7662 introspection for opaque tokens: active, inactive, expired, another audience, another user', async (t) => {
  const { f, provider } = await setup(
    t,
    (p, secret) => `introspection_url = "${p.url(INTROSPECTION_PATH)}"\n  introspection_client_id = "${CLIENT_ID}"\n  introspection_client_secret_file = "${secret}"`,
  );
  const now = Math.floor(Date.now() / 1000);
  const answer = (more: Record<string, unknown>) => ({ active: true, iss: ISSUER, aud: AUDIENCE, exp: now + 300, email: ALICE, email_verified: true, token_type: 'Bearer', ...more });
  provider.opaque.set('good-opaque-token', answer({}));
  provider.opaque.set('expired-opaque-token', answer({ exp: now - 3600 }));
  provider.opaque.set('foreign-opaque-token', answer({ aud: 'another-service' }));
  provider.opaque.set('no-aud-opaque-token', answer({ aud: undefined }));
  provider.opaque.set('bob-opaque-token', answer({ email: 'bob@example.com' }));
  // A short opaque token fits in the AUTH line itself (RFC 5034 §4's initial response).
  t.match(await attempt(f, oauthBearer(ALICE, 'good-opaque-token'), true), /^\+OK alice@example.com has 1 message/, 'an active token logs in (initial response)');
  t.match(await attempt(f, oauthBearer(undefined, 'good-opaque-token')), /^\+OK alice@example.com/, 'and after "+ "');
  const refusals: Array<[string, string]> = [
    ['revoked-opaque-token', 'not active (introspection)'],
    ['expired-opaque-token', 'expired'],
    ['foreign-opaque-token', 'wrong audience'],
    ['no-aud-opaque-token', 'wrong audience'],
    ['bob-opaque-token', 'the token is \\"bob@example.com\\"\'s'],
  ];
  for (const [token, reason] of refusals) {
    t.equal(await attempt(f, oauthBearer(ALICE, token)), 'invalid_token [AUTH] Authentication failed', token);
    await f.server.waitForLine(new RegExp(`token refused user="alice@example.com" mechanism="OAUTHBEARER" reason="${reason.replace(/[\\()]/g, (c) => `\\${c}`)}"`));
  }
  t.equal(provider.introspections, 7, 'one introspection per login');
  t.notOk(f.server.lines.some((l) => l.includes('opaque-token') || l.includes(CLIENT_SECRET)), 'neither tokens nor the client secret are logged');
});

t.test('introspection with a wrong client secret: the provider refuses r2d2, so the login is [SYS/TEMP]', async (t) => {
  const { f, provider } = await setup(t, (p) => `introspection_url = "${p.url(INTROSPECTION_PATH)}"\n  introspection_client_id = "${CLIENT_ID}"\n  introspection_client_secret = "not the secret"`);
  provider.opaque.set('good-opaque-token', { active: true, iss: ISSUER, aud: AUDIENCE, email: ALICE });
  t.equal(await attempt(f, oauthBearer(ALICE, 'good-opaque-token')), '-ERR [SYS/TEMP] the token cannot be checked now, try again later');
  await f.server.waitForLine(/token cannot be checked now mechanism="OAUTHBEARER" reason="introspection: localhost:\d+: HTTP 401"/);
});

t.test('a spawned r2d2 (supervisor, engine, worker threads): token logins in the workers; SIGHUP applies a changed oauth2 section', async (t) => {
  const provider = await TestProvider.start(certs);
  t.teardown(() => provider.close());
  provider.jwks = jwksOf(tokenKeys.ec);
  const { db, mail } = await databaseAndMail(t);
  const md = mail.maildir('alice');
  putMessage(md, sampleMessage(1));
  await db.addUser(ALICE, 'alice pw', md);
  const secretFile = join(tokenKeys.dir, 'spawned-secret');
  writeFileSync(secretFile, `${CLIENT_SECRET}\n`, { mode: 0o600 });
  const c11n = (audience: string): string =>
    spawnedConfigOf({
      maildirRoot: mail.path,
      accounts: accountsOn(db.name, 'pool_size = 2'),
      extra: `oauth2 {
  jwks = "${provider.url(JWKS_PATH)}"
  jwks_ca = "${certs.ca}"
  issuer = "${ISSUER}"
  audience = "${audience}"
  introspection_url = "${provider.url(INTROSPECTION_PATH)}"
  introspection_client_id = "${CLIENT_ID}"
  introspection_client_secret_file = "${secretFile}"
  maildrop_query_format_string = "SELECT maildir FROM mailbox WHERE username = %u AND active = 1"
}`,
    });
  const server = await SpawnedServer.start(t, c11n(AUDIENCE));
  const login = async (response: string): Promise<string> => {
    const { client } = await Pop3Client.greeted(server.port());
    try {
      client.send('AUTH OAUTHBEARER\r\n');
      await client.readLine();
      client.send(`${response}\r\n`);
      const line = await client.readLine();
      if (line.startsWith('+ ')) return `-ERR ${(await client.cmd('AQ==')).text}`;
      if (line.startsWith('+OK')) await client.cmd('QUIT');
      return line;
    } finally {
      client.destroy();
    }
  };
  const token = await sign(tokenKeys.ec, claimsFor(ALICE));
  // Several logins, so that both worker threads take some.
  for (let i = 0; i < 4; i++) t.match(await login(oauthBearer(ALICE, token)), /^\+OK alice@example.com has 1 message/, `JWT login ${i + 1}`);
  provider.opaque.set('opaque-1', { active: true, iss: ISSUER, aud: AUDIENCE, email: ALICE });
  t.match(await login(oauthBearer(ALICE, 'opaque-1')), /^\+OK alice@example.com/, 'an opaque token by introspection (the secret file reached the workers)');
  t.ok(provider.jwksRequests >= 1 && provider.jwksRequests <= 2, `each worker thread fetched the keys at most once (${provider.jwksRequests})`);
  t.notOk(server.text.includes(token.slice(-30)) || server.text.includes(CLIENT_SECRET), 'neither token nor secret in the log');
  t.notOk(readFileSync(`/proc/${server.enginePid()}/environ`, 'latin1').includes(CLIENT_SECRET), 'the client secret is in no environment');

  writeFileSync(join(server.dir, 'c11n'), c11n('another-audience'));
  server.child.kill('SIGHUP');
  await server.waitFor(/SIGHUP: configuration reloaded/);
  t.equal(await login(oauthBearer(ALICE, token)), '-ERR [AUTH] Authentication failed', 'the token\'s audience is no longer accepted');
  await server.waitFor(/token refused user="alice@example.com" mechanism="OAUTHBEARER" reason="wrong audience"/);
  t.match(await login(oauthBearer(ALICE, await sign(tokenKeys.ec, claimsFor(ALICE, { aud: 'another-audience' })))), /^\+OK alice@example.com/, 'the new one is');
});
