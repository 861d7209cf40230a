// The `oauth2 { }` section: what it becomes, and check-config's error (c11n:LINE:COL) for each
// mistake an operator can make in it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parseConfigText } from '../../src/config/load';
import type { Config } from '../../src/config/types';
import { failure } from '../helpers/c11n';

const dir = mkdtempSync(join(tmpdir(), 'r2d2-c11n-oauth2-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const RSA_PUBLIC = { kty: 'RSA', kid: 'k1', n: 'sXch', e: 'AQAB' };
writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [RSA_PUBLIC] }));
writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
writeFileSync(join(dir, 'secret'), 'intro secret\n');

const HEAD = `listen "pop3" { port = 110 }
maildrop_query_format_string = "SELECT maildir FROM m WHERE u = %u AND p = %p"
database "accounts" { }
`;
const QUERY = 'maildrop_query_format_string = "SELECT maildir FROM mailbox WHERE username = %u AND active = 1"';

/** The config of HEAD plus `section`; line 4 is the section's first line. */
function config(section: string): Config {
  return parseConfigText(HEAD + section, dir, {}, 1);
}

t.test('a JWKS file, one audience, the defaults', async (t) => {
  const c = config(`oauth2 {\n  jwks = jwks.json\n  issuer = "https://sso.example.com/realms/mail"\n  audience = pop3\n  ${QUERY}\n}`);
  t.same(c.oauth2, {
    jwks: { kind: 'file', path: join(dir, 'jwks.json'), text: JSON.stringify({ keys: [RSA_PUBLIC] }) },
    ca: undefined,
    issuer: 'https://sso.example.com/realms/mail',
    audiences: ['pop3'],
    usernameClaim: 'email',
    scopes: [],
    introspection: undefined,
    maildropQuery: 'SELECT maildir FROM mailbox WHERE username = %u AND active = 1',
  });
  t.equal(config('').oauth2, undefined, 'no section, no token logins');
});

t.test('an https JWKS with a private CA, audiences, a claim, scopes, introspection with a secret file', async (t) => {
  const c = config(`oauth2 {
  jwks = "https://sso.example.com/realms/mail/protocol/openid-connect/certs"
  jwks_ca = ca.pem
  issuer = "https://sso.example.com/realms/mail"
  audience = {pop3, account}
  username_claim = preferred_username
  scope = "mail  pop3"
  introspection_url = "https://sso.example.com/realms/mail/protocol/openid-connect/token/introspect"
  introspection_client_id = r2d2
  introspection_client_secret_file = secret
  ${QUERY}
}`);
  t.same(c.oauth2, {
    jwks: { kind: 'url', url: 'https://sso.example.com/realms/mail/protocol/openid-connect/certs' },
    ca: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
    issuer: 'https://sso.example.com/realms/mail',
    audiences: ['pop3', 'account'],
    usernameClaim: 'preferred_username',
    scopes: ['mail', 'pop3'],
    introspection: { url: 'https://sso.example.com/realms/mail/protocol/openid-connect/token/introspect', clientId: 'r2d2', clientSecret: 'intro secret' },
    maildropQuery: 'SELECT maildir FROM mailbox WHERE username = %u AND active = 1',
  });
  const introspectionOnly = config(`oauth2 { introspection_url = "https://idp/i"  introspection_client_id = r2d2  introspection_client_secret = "s"  issuer = i  audience = a  ${QUERY} }`);
  t.equal(introspectionOnly.oauth2?.jwks, undefined, 'introspection alone will do');
  t.equal(introspectionOnly.oauth2?.introspection?.clientSecret, 's');
});

t.test('every mistake is reported where it was made', async (t) => {
  const base = (more: string, query = QUERY) => `oauth2 {\n  issuer = i\n  audience = a\n  ${query}\n  ${more}\n}`;
  const cases: Array<[string, string]> = [
    [`oauth2 {\n  jwks = jwks.json\n  audience = a\n  ${QUERY}\n}`, 'c11n:4:1: missing required "issuer" in section "oauth2"'],
    [`oauth2 {\n  jwks = jwks.json\n  issuer = i\n  ${QUERY}\n}`, 'c11n:4:1: missing required "audience" in section "oauth2"'],
    [`oauth2 {\n  jwks = jwks.json\n  issuer = i\n  audience = a\n}`, 'c11n:4:1: missing required "maildrop_query_format_string" in section "oauth2"'],
    [base(''), 'c11n:4:1: section "oauth2" needs "jwks" (the provider\'s keys) or "introspection_url" (RFC 7662), or both'],
    [base('jwks = "http://sso.example.com/certs"'), 'c11n:8:10: "jwks" must be an https:// URL (keys and tokens never travel in the clear), got "http://sso.example.com/certs"'],
    [base('jwks = no-such.json'), `c11n:8:10: "jwks": cannot read ${join(dir, 'no-such.json')}: ENOENT: no such file or directory`],
    [base('jwks = ca.pem'), `c11n:8:10: "jwks": ${join(dir, 'ca.pem')} is not JSON`],
    [base('jwks = secret'), `c11n:8:10: "jwks": ${join(dir, 'secret')} is not JSON`],
    [base('jwks = jwks.json', 'maildrop_query_format_string = "SELECT maildir FROM m WHERE u = %u AND p = %p"'), 'c11n:7:34: "maildrop_query_format_string" must not use %p: a token login has no password (the token was checked already)'],
    [base('jwks = jwks.json', 'maildrop_query_format_string = "SELECT maildir FROM m WHERE u = %x"'), 'c11n:7:34: "maildrop_query_format_string" has an unknown substitution "%x" at character 33 (a token login query has %u (the token\'s user) %l %d %r and %%)'],
    [base('jwks = jwks.json  jwks_ca = ca.pem'), 'c11n:8:31: "jwks_ca" is for an https jwks or introspection_url, and neither is set'],
    [base('jwks = "https://idp/certs"  jwks_ca = secret'), `c11n:8:41: "jwks_ca": ${join(dir, 'secret')} holds no PEM certificate`],
    [base('introspection_url = "https://idp/i"'), 'c11n:8:23: introspection_url needs introspection_client_id (and its secret)'],
    [base('introspection_url = "https://idp/i"  introspection_client_id = r2d2'), 'c11n:8:23: introspection_url needs introspection_client_secret_file (or introspection_client_secret)'],
    [base('introspection_url = "https://idp/i"  introspection_client_id = r2d2  introspection_client_secret = s  introspection_client_secret_file = secret'), 'c11n:8:140: "introspection_client_secret" and "introspection_client_secret_file" are the same setting: keep one'],
    [base('introspection_url = "https://idp/i"  introspection_client_id = r2d2  introspection_client_secret_file = nothing'), `c11n:8:107: introspection_client_secret_file "nothing": cannot read ${join(dir, 'nothing')}: ENOENT: no such file or directory`],
    [base('jwks = jwks.json  introspection_client_id = r2d2'), 'c11n:8:47: "introspection_client_id" is for introspection_url, which is not set'],
    [base('introspection_url = "https://user:pw@idp/i"'), 'c11n:8:23: "introspection_url" must not hold credentials: use introspection_client_id and introspection_client_secret_file'],
    [base('jwks = jwks.json  audience = {}'), 'c11n:8:21: duplicate key "audience" (first set at c11n:6:3)'],
  ];
  for (const [section, message] of cases) t.equal(failure(() => config(section)), message, message);
});

t.test('a JWKS file with anything but public signature keys is refused', async (t) => {
  const cases: Array<[unknown, string]> = [
    [{ keys: [] }, 'is not a JWKS: it needs a non-empty "keys" array'],
    [{ key: RSA_PUBLIC }, 'is not a JWKS: it needs a non-empty "keys" array'],
    [{ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }, 'key 1 has kty "oct": only RSA, EC and OKP public keys are accepted'],
    [{ keys: [RSA_PUBLIC, { ...RSA_PUBLIC, d: 'private' }] }, 'key 2 is a private key: publish only the public part'],
    [{ keys: ['RSA'] }, 'key 1 is not an object'],
  ];
  for (const [jwks, reason] of cases) {
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(jwks));
    t.equal(failure(() => config(`oauth2 { jwks = bad.json  issuer = i  audience = a  ${QUERY} }`)), `c11n:4:17: "jwks": ${join(dir, 'bad.json')} ${reason}`, reason);
  }
});

t.test('the example module personality/modules/oauth2.c11n loads', async (t) => {
  const personality = join(__dirname, '../../../personality');
  const c = parseConfigText(`${HEAD}include("modules/oauth2.c11n")`, personality, {}, 1);
  t.same(c.oauth2?.jwks, { kind: 'url', url: 'https://sso.example.com/realms/mail/protocol/openid-connect/certs' });
  t.equal(c.oauth2?.issuer, 'https://sso.example.com/realms/mail');
  t.same(c.oauth2?.audiences, ['pop3']);
  t.equal(c.oauth2?.usernameClaim, 'email');
  t.equal(c.oauth2?.introspection, undefined);
});
