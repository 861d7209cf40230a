// The PROXY protocol keys of c11n: per listener or top level, CIDR checks, and the error for a
// listener that would accept a header from nobody.
import t from 'tap';
import { parseConfigText } from '../../src/config/load';
import type { Config } from '../../src/config/types';
import { failure } from '../helpers/c11n';

const BASE = 'maildrop_query_format_string = "SELECT maildir FROM m WHERE u = %u"\ndatabase "accounts" { }\n';

function config(text: string): Config {
  return parseConfigText(BASE + text, '/etc/r2d2', {}, 2, () => {
    throw new Error('no includes here');
  });
}

t.test('per listener, or the top-level list as the default', async (t) => {
  const c = config(`
trusted_proxies = { "10.0.0.0/8", "::1/128" }
listen "a" { port = 110  proxy_protocol = yes }
listen "b" { port = 111  proxy_protocol = yes  trusted_proxies = { "192.0.2.7" }  proxy_protocol_timeout = 10 }
listen "c" { port = 112 }
`);
  t.same(
    c.listeners.map((l) => [l.name, l.proxyProtocol, l.trustedProxies, l.proxyProtocolTimeoutMs]),
    [
      ['a', true, ['10.0.0.0/8', '::1/128'], 3000],
      ['b', true, ['192.0.2.7'], 10_000],
      ['c', false, ['10.0.0.0/8', '::1/128'], 3000],
    ],
  );
  t.same(c.trustedProxies, ['10.0.0.0/8', '::1/128']);
  t.same(config('listen "a" { port = 110  trusted_proxies = { "127.0.0.1" }\n  trusted_proxies += { "::1" } }').listeners[0]?.trustedProxies, ['127.0.0.1', '::1'], '+= appends');
});

t.test('errors at the key, c11n:LINE:COL', async (t) => {
  t.match(failure(() => config('listen "a" { port = 110  proxy_protocol = yes }')), /^c11n:3:\d+: listen "a" has proxy_protocol = yes: set trusted_proxies \(in the section or at top level\)$/);
  t.match(failure(() => config('trusted_proxies = { "10.0.0.0/33" }\nlisten "a" { port = 110 }')), /^c11n:3:\d+: "trusted_proxies" has a prefix length that is not 0 to 32: "10.0.0.0\/33"$/);
  t.match(failure(() => config('listen "a" { port = 110  trusted_proxies = { "haproxy.example" } }')), /^c11n:3:\d+: "trusted_proxies" must be an address or a network/);
  t.match(failure(() => config('listen "a" { port = 110  trusted_proxies = { "::1/129" } }')), /prefix length that is not 0 to 128/);
  t.match(failure(() => config('listen "a" { port = 110  trusted_proxies = { "fe80::1%eth0" } }')), /must be an address or a network/);
  t.match(failure(() => config('listen "a" { port = 110  trusted_proxies = { "10.0.0.0/+8" } }')), /prefix length/);
  t.match(failure(() => config('listen "a" { port = 110  proxy_protocol_timeout = 0 }')), /"proxy_protocol_timeout" must be between 1 and/);
  t.match(failure(() => config('listen "a" { port = 110  proxy_protocol = maybe }')), /"proxy_protocol" must be a boolean/);
});

t.test('auth_http: absent, defaults, the top-level trusted_proxies, and its errors', async (t) => {
  t.equal(config('listen "a" { port = 110 }').authHttp, undefined);
  t.same(config('trusted_proxies = { "10.0.0.5" }\nlisten "a" { port = 110 }\nauth_http { port = 8110 }').authHttp, {
    address: '127.0.0.1',
    port: 8110,
    trustedProxies: ['10.0.0.5'],
    defaultHost: '127.0.0.1',
    defaultPort: 110,
  });
  t.same(
    config('listen "a" { port = 110 }\nauth_http { address = "::1"  port = 8110  trusted_proxies = { "::1" }  default_host = pop1.example.org  default_port = 1110 }').authHttp,
    { address: '::1', port: 8110, trustedProxies: ['::1'], defaultHost: 'pop1.example.org', defaultPort: 1110 },
  );
  t.match(failure(() => config('listen "a" { port = 110 }\nauth_http { address = "127.0.0.1" }')), /^c11n:4:\d+: missing required "port" in section "auth_http"$/);
  t.match(failure(() => config('listen "a" { address = "127.0.0.1"  port = 110 }\nauth_http { port = 110 }')), /auth_http uses 127\.0\.0\.1:110, already used by listen "a"/);
  t.match(failure(() => config('listen "auth_http" { port = 110 }\nauth_http { port = 8110 }')), /that name is the auth_http section's/);
  t.match(failure(() => config('listen "a" { port = 110 }\nauth_http { port = 8110  default_host = "a b" }')), /"default_host" must be an address or a host name/);
  t.match(failure(() => config('listen "a" { port = 110 }\nauth_http { port = 8110  default_port = 0 }')), /"default_port" must be between 1 and 65535/);
});
