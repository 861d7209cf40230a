// nginx's auth_http request headers as r2d2 reads them: URL-escaped Auth-User/Auth-Pass decoded
// as UTF-8 octets, the rest taken as sent, and a request without credentials unusable.
import t from 'tap';
import { nginxUnescape, readAuthRequest } from '../../src/server/auth-http/request';

t.test('nginxUnescape: %XX are octets, read as UTF-8; anything else stays', async (t) => {
  t.equal(nginxUnescape('p%40ss%20w%25rd%20%C3%A9'), 'p@ss w%rd é');
  t.equal(nginxUnescape('%e2%82%ac'), '€', 'lower-case hex');
  t.equal(nginxUnescape('100%'), '100%', 'a trailing % alone');
  t.equal(nginxUnescape('%zz%4'), '%zz%4', 'not two hex digits');
  t.equal(nginxUnescape('a%0D%0Ab'), 'a\r\nb', 'control octets come back (they are never logged)');
  t.equal(nginxUnescape('@'), '@', 'what nginx leaves alone');
  // Node hands header values over as latin1 text: octets above 0x7f sent raw still read as UTF-8.
  t.equal(nginxUnescape(Buffer.from('é', 'utf8').toString('latin1')), 'é');
});

t.test('readAuthRequest: nginx headers, lower-cased by node:http', async (t) => {
  t.same(
    readAuthRequest({
      'auth-method': 'plain',
      'auth-user': 'alice%40example.com',
      'auth-pass': 'a%20b',
      'auth-protocol': 'pop3',
      'auth-login-attempt': '2',
      'client-ip': ' 203.0.113.7 ',
    }),
    { kind: 'request', request: { method: 'plain', user: 'alice@example.com', password: 'a b', protocol: 'pop3', attempt: 2, clientIp: '203.0.113.7' } },
  );
  t.match(readAuthRequest({ 'auth-user': 'a', 'auth-pass': 'b', 'auth-method': 'CRAM-MD5', 'auth-login-attempt': 'x' }), {
    request: { method: 'cram-md5', protocol: 'pop3', attempt: undefined, clientIp: undefined },
  });
  t.same(readAuthRequest({ 'auth-user': 'a' }), { kind: 'unusable', reason: 'no Auth-User or Auth-Pass header' });
});
