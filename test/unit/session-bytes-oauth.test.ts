// Token logins through bytes alone (the SQLite accounts, an in-memory wire, a hand-moved clock):
// the failed-login delay and its escalation are the password logins' own; the 16 KB limit holds
// only for the line that answers "+ ", never for a command or a line queued behind it.
import t from 'tap';
import { ByteSessions } from '../helpers/byte-session';
import { claimsFor, makeTokenKeys, oauth2Section, oauthBearer, sign, xoauth2 } from '../helpers/oauth2';

const CRLF = '\r\n';
const keys = makeTokenKeys();
t.teardown(() => keys.remove());
const SECTION = oauth2Section(`jwks = "${keys.jwksFile}"`, 'SELECT maildir FROM accounts WHERE login = %u');

/** Lets the session run its awaited steps (the token check, the query) up to the clock. */
async function settle(until: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !until(); i++) await new Promise((r) => setImmediate(r));
}

t.test('a refused token waits out the failed-login delay before its challenge, escalating as password failures do', async (t) => {
  const s = new ByteSessions(t, { extra: SECTION });
  s.addUser('erin@example.com', 'pw');
  const c = s.open({ failureDelayMs: 1000 });
  await c.wire.until(/ready\r\n$/);
  const wrongAudience = await sign(keys.ec, claimsFor('erin@example.com', { aud: 'someone-else' }));
  const expired = await sign(keys.ed, claimsFor('erin@example.com', { exp: 1000 }));
  const delays: number[] = [];
  for (const token of [wrongAudience, expired, expired]) {
    c.wire.take();
    c.send(`AUTH XOAUTH2\r\n`);
    await c.wire.until(/\+ \r\n$/);
    c.wire.take();
    c.send(`${xoauth2('erin@example.com', token)}\r\n`);
    await settle(() => c.clock.waiting >= 3);
    t.equal(c.clock.waiting, 3, 'idle and login timers, and the failure delay');
    let waited = 0;
    while (!c.wire.text.includes('+ ')) {
      c.clock.advance(500);
      waited += 500;
      await settle(() => c.wire.text.includes('+ '));
    }
    delays.push(waited);
    t.match(c.wire.take(), /^\+ eyJzdGF0dXMiOiI0MDEi/, 'then the challenge ({"status":"401"...)');
    t.equal(await c.exchange('\r\n', /\r\n$/), `-ERR [AUTH] Authentication failed${CRLF}`, 'an empty line ends an XOAUTH2 failure');
  }
  t.same(delays, [1000, 2000, 2000], 'doubling per new failure; the same token again does not count twice');
  const good = await sign(keys.rsa, claimsFor('erin@example.com'));
  c.send(`AUTH OAUTHBEARER\r\n`);
  await c.wire.until(/\+ \r\n$/);
  t.match(await c.exchange(`${oauthBearer('erin@example.com', good)}\r\n`, /\r\n$/), /^\+OK erin@example.com has 0 messages/, 'a good token logs in without a delay');
  t.equal(s.lines.filter((l) => l.includes('login failed: bad credentials user="erin@example.com" peer="192.0.2.7"')).length, 3);
});

t.test('SASL responses may be 16 KB; commands, and lines queued behind a response, keep 255', async (t) => {
  const s = new ByteSessions(t, { extra: SECTION });
  s.addUser('erin@example.com', 'pw');
  const c = s.open();
  await c.wire.until(/ready\r\n$/);
  const base64 = (n: number): string => 'QUFB'.repeat(n / 4);
  // 16,384 octets with the CRLF: the longest response is read (and judged); one octet more is too long.
  c.send('AUTH PLAIN\r\n');
  await c.wire.until(/\+ \r\n$/);
  t.equal(await c.exchange(`${'A'.repeat(16_382)}\r\n`, /\r\n$/), `-ERR invalid base64 in the SASL response${CRLF}`, 'a 16,384-octet line is read');
  c.send('AUTH PLAIN\r\n');
  await c.wire.until(/\+ \r\n$/);
  t.equal(await c.exchange(`${'A'.repeat(16_383)}\r\n`, /\r\n$/), `-ERR SASL response too long${CRLF}`, 'one octet more is not');
  c.send('AUTH PLAIN\r\n');
  await c.wire.until(/\+ \r\n$/);
  t.equal(await c.exchange(`${base64(16_380)}\r\n`, /\r\n$/), `-ERR malformed PLAIN response${CRLF}`, 'a 16 KB base64 response is decoded');
  t.equal(await c.exchange(`NOOP ${'x'.repeat(300)}\r\n`, /\r\n$/), `-ERR command line too long${CRLF}`, 'commands keep 255');
  // A line sent with the response, before the server answered it, is a command: 255 again.
  c.send('AUTH PLAIN\r\n');
  await c.wire.until(/\+ \r\n$/);
  t.equal(
    await c.exchange(`${base64(400)}\r\nUSER ${'x'.repeat(300)}\r\n`, /long\r\n$/),
    `-ERR malformed PLAIN response${CRLF}-ERR command line too long${CRLF}`,
  );
  // Sent while the name is being handled, before the password prompt: a command line again.
  c.send('AUTH LOGIN\r\n');
  await c.wire.until(/\+ VXNlcm5hbWU6\r\n$/);
  c.wire.take();
  c.send(`${Buffer.from('erin@example.com').toString('base64')}\r\n`);
  c.send(`${base64(400)}\r\n`);
  await c.wire.until(/long\r\n$/);
  t.equal(c.wire.take(), `+ UGFzc3dvcmQ6${CRLF}-ERR SASL response too long${CRLF}`);
  // A response pipelined with its AUTH, before "+ ", is judged as a command line (RFC 5034 §4: wait for "+ ").
  t.equal(
    await c.exchange(`AUTH OAUTHBEARER\r\n${base64(400)}\r\n`, /long\r\n$/),
    `+ ${CRLF}-ERR SASL response too long${CRLF}`,
  );
});
