// The provider's keys in memory, on an injected clock: loaded at the first token, refreshed for
// an unknown kid at most once a minute, refreshed when ten minutes old, kept when a refresh
// fails, loaded once for logins that wait together.
import t from 'tap';
import pino from 'pino';
import { KEYS_MAX_AGE_MS, KeySource, UNKNOWN_KID_REFRESH_MS } from '../../src/accounts/oauth2/key-source';
import { verifyJwt } from '../../src/accounts/oauth2/verify-jwt';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUDIENCE, claimsFor, ISSUER, jwksOf, opensslKey, sign, type SigningKey } from '../helpers/oauth2';

const dir = mkdtempSync(join(tmpdir(), 'r2d2-keysource-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const first = opensslKey(dir, 'ec-a', 'ES256');
const second = opensslKey(dir, 'ed-b', 'EdDSA');
const RULES = { issuer: ISSUER, audiences: [AUDIENCE] };

function provider() {
  const state = { now: Date.parse('2030-01-01T00:00:00Z'), loads: 0, down: false, published: jwksOf(first) as unknown, lines: [] as string[] };
  const log = pino({ level: 'info' }, { write: (line: string) => state.lines.push(line) });
  const source = new KeySource(
    async () => {
      state.loads++;
      if (state.down) throw new Error('connection refused');
      return state.published;
    },
    'https://sso.example.test/certs',
    () => log,
    () => state.now,
  );
  const verify = async (key: SigningKey): Promise<string> => {
    const seconds = Math.floor(state.now / 1000);
    const token = await sign(key, claimsFor('a@example.com', { iat: seconds, exp: seconds + 3600 }));
    const verdict = await verifyJwt(token, source, RULES, new Date(state.now));
    return verdict.kind === 'valid' ? 'valid' : `${verdict.kind}: ${verdict.reason}`;
  };
  return { state, verify };
}

t.test('an unknown kid refreshes the keys at most once a minute', async (t) => {
  const { state, verify } = provider();
  t.equal(await verify(first), 'valid');
  t.equal(state.loads, 1, 'loaded for the first token');
  t.equal(await verify(second), 'invalid: signed by an unknown key', 'not published yet');
  t.equal(state.loads, 2, 'the unknown kid fetched the keys again');
  state.published = jwksOf(first, second);
  state.now += UNKNOWN_KID_REFRESH_MS - 1;
  t.equal(await verify(second), 'invalid: signed by an unknown key', 'published now, but the last refresh was under a minute ago');
  t.equal(state.loads, 2);
  state.now += 1;
  t.equal(await verify(second), 'valid', 'a minute on, the unknown kid refreshes again');
  t.equal(state.loads, 3);
  t.equal(await verify(first), 'valid');
  t.equal(state.loads, 3, 'known kids need no refresh');
});

t.test('keys older than ten minutes are fetched again; a failed refresh keeps the old ones', async (t) => {
  const { state, verify } = provider();
  t.equal(await verify(first), 'valid');
  state.now += KEYS_MAX_AGE_MS;
  t.equal(await verify(first), 'valid');
  t.equal(state.loads, 1, 'not yet old');
  state.now += 1;
  t.equal(await verify(first), 'valid');
  t.equal(state.loads, 2, 'old keys are fetched again');
  state.down = true;
  state.now += KEYS_MAX_AGE_MS + 1;
  t.equal(await verify(first), 'valid', 'the provider is down: the keys held still verify');
  t.equal(state.loads, 3);
  t.match(state.lines.at(-1), /oauth2 keys cannot be refreshed: keeping the old ones/);
  t.equal(await verify(first), 'valid');
  t.equal(state.loads, 3, 'no new try at once');
  state.now += 60_001;
  await verify(first);
  t.equal(state.loads, 4, 'a minute later, another');
});

t.test('without keys, a provider that cannot be reached leaves the login undecided', async (t) => {
  const { state, verify } = provider();
  state.down = true;
  t.equal(await verify(first), 'unavailable: https://sso.example.test/certs: connection refused');
  state.published = { not: 'a jwks' };
  state.down = false;
  t.equal(await verify(first), 'unavailable: https://sso.example.test/certs: not a JWKS (no "keys" array)');
  state.published = jwksOf(first);
  t.equal(await verify(first), 'valid');
});

t.test('logins that wait for the keys together share one load', async (t) => {
  const { state, verify } = provider();
  const verdicts = await Promise.all([verify(first), verify(first), verify(first), verify(first)]);
  t.same(verdicts, ['valid', 'valid', 'valid', 'valid']);
  t.equal(state.loads, 1);
});
