// The OAUTHBEARER (RFC 7628 §3.1, RFC 5801's GS2 header) and XOAUTH2 client messages: what is
// taken, what is refused, and that no input makes the parser throw.
import t from 'tap';
import fc from 'fast-check';
import { parseOAuthBearer, parseXOAuth2 } from '../../src/pop3/oauth-response';
import { params, runs } from '../helpers/fuzz';

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');
const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln-_~+/';

t.test('OAUTHBEARER: the GS2 header, its authzid, and the auth pair', async (t) => {
  const ok = (message: string, user: string | undefined, token = TOKEN) => t.same(parseOAuthBearer(bytes(message)), { kind: 'token', token, user }, JSON.stringify(message));
  ok(`n,a=alice@example.com,\x01host=mail.example.com\x01port=110\x01auth=Bearer ${TOKEN}\x01\x01`, 'alice@example.com');
  ok(`n,,\x01auth=Bearer ${TOKEN}\x01\x01`, undefined);
  ok(`y,,\x01auth=bearer ${TOKEN}\x01\x01`, undefined); // "y": the client would bind channels, but thinks the server cannot
  ok(`F,n,a=x,\x01auth=BEARER   ${TOKEN}\x01\x01`, 'x');
  ok(`n,a=a=2Cb=3Dc,\x01auth=Bearer abc==\x01\x01`, 'a,b=c', 'abc==');
  ok(`n,a=bób,\x01AUTH=Bearer ${TOKEN}\x01\x01`, 'bób');
  const bad = (message: string, reason: string) => t.same(parseOAuthBearer(bytes(message)), { kind: 'malformed', reason }, JSON.stringify(message));
  bad('', 'no GS2 header (n,a=user,)');
  bad('\x01', 'no GS2 header (n,a=user,)');
  bad(`x,,\x01auth=Bearer ${TOKEN}\x01\x01`, 'no GS2 header (n,a=user,)');
  bad(`n,a=alice\x01auth=Bearer ${TOKEN}\x01\x01`, 'no GS2 header (n,a=user,)');
  bad(`p=tls-unique,,\x01auth=Bearer ${TOKEN}\x01\x01`, 'channel binding is not supported');
  bad(`n,a=,\x01auth=Bearer ${TOKEN}\x01\x01`, 'bad authzid in the GS2 header');
  bad(`n,a=x=41,\x01auth=Bearer ${TOKEN}\x01\x01`, 'bad authzid in the GS2 header');
  bad(`n,,auth=Bearer ${TOKEN}\x01\x01`, 'no ^A after the GS2 header');
  bad(`n,,\x01auth=Bearer ${TOKEN}\x01`, 'does not end with ^A^A');
  bad(`n,,\x01auth=Bearer ${TOKEN}\x01\x01\x01`, 'a key=value pair is malformed');
  bad(`n,,\x01auth=Bearer ${TOKEN}\x01auth=Bearer x\x01\x01`, 'auth= twice');
  bad(`n,,\x01host=x\x01\x01`, 'no auth=');
  bad('n,,\x01\x01', 'no auth=');
  bad(`n,,\x01auth=Bearer\x01\x01`, 'auth= is not "Bearer <token>"');
  bad(`n,,\x01auth=Bearer a b\x01\x01`, 'auth= is not "Bearer <token>"');
  bad(`n,,\x01auth=MAC ${TOKEN}\x01\x01`, 'auth= is not "Bearer <token>"');
  bad(`n,,\x011host=x\x01auth=Bearer ${TOKEN}\x01\x01`, 'a key=value pair is malformed');
  bad(`n,,\x01host=\x00\x01auth=Bearer ${TOKEN}\x01\x01`, 'a key=value pair is malformed');
});

t.test('XOAUTH2: user= and auth=, ^A^A at the end', async (t) => {
  t.same(parseXOAuth2(bytes(`user=alice@example.com\x01auth=Bearer ${TOKEN}\x01\x01`)), { kind: 'token', token: TOKEN, user: 'alice@example.com' });
  t.same(parseXOAuth2(bytes(`auth=Bearer ${TOKEN}\x01user=a\x01\x01`)), { kind: 'token', token: TOKEN, user: 'a' }, 'in either order');
  t.same(parseXOAuth2(bytes(`auth=Bearer ${TOKEN}\x01\x01`)), { kind: 'malformed', reason: 'no user=' });
  t.same(parseXOAuth2(bytes(`user=\x01auth=Bearer ${TOKEN}\x01\x01`)), { kind: 'malformed', reason: 'no user=' });
  t.same(parseXOAuth2(bytes(`user=a\x01\x01`)), { kind: 'malformed', reason: 'no auth=' });
  t.same(parseXOAuth2(bytes(`user=a\x01auth=Bearer ${TOKEN}`)), { kind: 'malformed', reason: 'does not end with ^A^A' });
  t.same(parseXOAuth2(bytes(`n,a=a,\x01auth=Bearer ${TOKEN}\x01\x01`)), { kind: 'malformed', reason: 'a key=value pair is malformed' }, 'an OAUTHBEARER message is no XOAUTH2 one');
});

t.test('no input makes either parser throw; a token comes out only as RFC 6750 b64token', async (t) => {
  const piece = fc.oneof(fc.constantFrom('n,', 'a=', ',', '\x01', 'auth=', 'Bearer ', 'user=', '=2C', '=3D', 'host=x', ' '), fc.string({ maxLength: 8 }));
  const message = fc.oneof(fc.array(piece, { maxLength: 12 }).map((p) => Buffer.from(p.join(''))), fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)));
  fc.assert(
    fc.property(message, (m) => {
      for (const result of [parseOAuthBearer(m), parseXOAuth2(m)]) {
        if (result.kind === 'token' && !/^[A-Za-z0-9\-._~+/]+=*$/.test(result.token)) throw new Error(`bad token ${JSON.stringify(result.token)}`);
      }
    }),
    params(2000),
  );
  t.pass(`held for ${runs(2000)} inputs`);
});
