// Live-server fuzz: fast-check generates sessions of random and mutated command streams --
// grammar commands with random arguments, byte-mutated commands, binary noise, huge lines,
// pipelined bursts, commands trickled a byte at a time, STLS mid-stream (with plaintext
// pipelined after it), SASL exchanges of every mechanism with responses up to 20,000 octets --
// and plays each against a real server over a real socket. Every reply
// must come within a deadline and be well-formed (see test/helpers/fuzz-wire.ts); after each
// session a clean login must work; the server must log no internal error. Brief in CI;
// `npm run fuzz` (R2D2_FUZZ_RUNS) runs it long.
import t from 'tap';
import fc from 'fast-check';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCertificates } from '../helpers/certificates';
import { fixture } from '../helpers/fixture';
import { params, protocolByte, runs } from '../helpers/fuzz';
import { FuzzFailure, FuzzWire } from '../helpers/fuzz-wire';
import { putMessage, sampleMessage } from '../helpers/maildir';
import { claimsFor, jwksOf, oauth2Section, oauthBearer, opensslKey, sign, xoauth2 } from '../helpers/oauth2';
import { Pop3Client } from '../helpers/pop3-client';

const USER = 'fuzz';
const PASSWORD = 'fuzz pw';
const MESSAGES = [
  sampleMessage(1, 5),
  'Subject: dots\n\n.\n..\n.x\nno final newline',
  'Subject: crlf\r\n\r\nmixed\nline\r\nends\r\n',
  'Subject: top\n\n' + Array.from({ length: 30 }, (_, i) => `${i % 3 === 0 ? '.' : ''}body ${i}`).join('\n') + '\n',
  'Subject: empty body\n\n',
];

// Token logins are configured too: one key (made by openssl), one good token for the fuzz user.
const keyDir = mkdtempSync(join(tmpdir(), 'r2d2-fuzz-keys-'));
const KEY = opensslKey(keyDir, 'fuzz-ec', 'ES256');
const JWKS_FILE = join(keyDir, 'jwks.json');
writeFileSync(JWKS_FILE, JSON.stringify(jwksOf(KEY)));
const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

/** A line answering "+ ": good and bad credentials of every mechanism, cancels, %x01, noise, and long lines. */
function saslResponse(token: string): fc.Arbitrary<string> {
  const base64Chars = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split(''));
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('*', 'AQ==', '', '=', b64(USER), b64(PASSWORD), b64(`\0${USER}\0${PASSWORD}`), b64(`\0${USER}\0wrong`)) },
    { weight: 3, arbitrary: fc.constantFrom(oauthBearer(USER, token), xoauth2(USER, token), oauthBearer(undefined, 'a.b.c'), oauthBearer('nobody', token), xoauth2(USER, 'opaque')) },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 120 }).map((a) => Buffer.from(a).toString('base64')) },
    { weight: 2, arbitrary: fc.tuple(fc.integer({ min: 200, max: 20_000 }), base64Chars).map(([n, c]) => c.repeat(n - (n % 4))) },
  );
}

const KEYWORDS = ['USER', 'PASS', 'QUIT', 'STAT', 'LIST', 'RETR', 'DELE', 'NOOP', 'RSET', 'TOP', 'UIDL', 'CAPA', 'STLS', 'APOP', 'AUTH', 'XYZZY'];
const argument = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 7 }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom('-1', '00', '1x', '4294967297', '99999999999', '+1', '0x1', '', '1.0') },
  { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
);
/** A command line (no line end) from the grammar: mostly real commands, the right login often. */
const grammarCommand: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(`USER ${USER}`, `PASS ${PASSWORD}`) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('AUTH PLAIN', 'AUTH LOGIN', 'AUTH OAUTHBEARER', 'AUTH XOAUTH2', 'auth xoauth2', `AUTH PLAIN ${b64(`\0${USER}\0${PASSWORD}`)}`, `AUTH LOGIN ${b64(USER)}`, 'AUTH LOGIN =', 'AUTH OAUTHBEARER ='),
  },
  { weight: 1, arbitrary: fc.constantFrom('USER nobody', 'PASS wrong', `USER ${USER} `, 'PASS', 'USER') },
  {
    weight: 6,
    arbitrary: fc
      .tuple(fc.constantFrom('RETR', 'TOP', 'LIST', 'UIDL', 'DELE', 'RSET', 'STAT'), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 40 }))
      .map(([k, n, lines]) => (k === 'TOP' ? `${k} ${n} ${lines}` : k === 'RSET' || k === 'STAT' ? k : `${k} ${n}`)),
  },
  {
    weight: 10,
    arbitrary: fc
      .tuple(fc.constantFrom(...KEYWORDS).chain((k) => fc.mixedCase(fc.constant(k))), fc.array(argument, { maxLength: 3 }))
      .map(([k, a]) => [k, ...a].join(' ')),
  },
);

/** A grammar command with a few bytes replaced, inserted or removed. */
const mutatedCommand: fc.Arbitrary<Buffer> = fc
  .tuple(grammarCommand, fc.array(fc.tuple(fc.constantFrom('replace', 'insert', 'delete'), fc.nat(), protocolByte), { minLength: 1, maxLength: 4 }))
  .map(([command, edits]) => {
    const bytes = [...Buffer.from(command, 'utf8')];
    for (const [op, at, byte] of edits) {
      const i = bytes.length === 0 ? 0 : at % bytes.length;
      if (op === 'replace' && bytes.length > 0) bytes[i] = byte;
      else if (op === 'insert') bytes.splice(i, 0, byte);
      else bytes.splice(i, 1);
    }
    return Buffer.from(bytes);
  });

const eol = fc.constantFrom('\r\n', '\r\n', '\n');
const line = (body: fc.Arbitrary<Buffer | string>): fc.Arbitrary<Buffer> =>
  fc.tuple(body, eol).map(([b, e]) => Buffer.concat([typeof b === 'string' ? Buffer.from(b, 'utf8') : b, Buffer.from(e)]));

type Step = { readonly label: string; readonly writes: readonly Buffer[] };

/** One step of a session: the bytes, and how they are cut into writes. */
const step = (token: string): fc.Arbitrary<Step> => fc.oneof(
  { weight: 3, arbitrary: line(saslResponse(token)).map((b) => ({ label: `SASL response (${b.length})`, writes: [b] })) },
  { weight: 10, arbitrary: line(grammarCommand).map((b) => ({ label: 'command', writes: [b] })) },
  { weight: 3, arbitrary: line(mutatedCommand).map((b) => ({ label: 'mutated', writes: [b] })) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.boolean())
      .map(([a, end]) => ({ label: 'binary', writes: [Buffer.concat([Buffer.from(a), Buffer.from(end ? '\r\n' : '')])] })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 200, max: 70_000 }), protocolByte, fc.boolean())
      .map(([n, b, end]) => ({ label: `huge line (${n})`, writes: [Buffer.concat([Buffer.alloc(n, b === 0x0a ? 0x41 : b), Buffer.from(end ? '\r\n' : '')])] })),
  },
  {
    weight: 3,
    arbitrary: fc
      .array(fc.oneof({ weight: 4, arbitrary: line(grammarCommand) }, { weight: 1, arbitrary: line(mutatedCommand) }), { minLength: 2, maxLength: 25 })
      .map((lines) => ({ label: `burst of ${lines.length}`, writes: [Buffer.concat(lines)] })),
  },
  {
    weight: 1,
    arbitrary: line(grammarCommand).map((b) => ({ label: 'trickled', writes: [...b].map((byte) => Buffer.from([byte])) })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.mixedCase(fc.constant('STLS')), fc.constantFrom('', `USER ${USER}\r\nPASS ${PASSWORD}\r\nSTAT\r\n`, 'CAPA\r\n', 'garbage'))
      .map(([k, after]) => ({ label: after === '' ? 'STLS' : 'STLS + pipelined plaintext', writes: [Buffer.from(`${k}\r\n${after}`)] })),
  },
);

type Ending = 'quit' | 'drop' | 'half-close';
const LOGIN: Step = { label: 'login', writes: [Buffer.from(`USER ${USER}\r\nPASS ${PASSWORD}\r\n`)] };
const STLS: Step = { label: 'STLS', writes: [Buffer.from('STLS\r\n')] };
/** Most sessions log in first (plain or after STLS), so the fuzz reaches TRANSACTION's commands. */
/** A token login in two steps: the response goes only once "+ " has come (16 KB is for that line alone). */
const tokenLogin = (token: string): Step[] => [
  { label: 'AUTH OAUTHBEARER', writes: [Buffer.from('AUTH OAUTHBEARER\r\n')] },
  { label: 'token', writes: [Buffer.from(`${oauthBearer(USER, token)}\r\n`)] },
];
const session = (token: string) => fc.record({
  prelude: fc.constantFrom<Step[]>([], [], [LOGIN], [LOGIN], [STLS, LOGIN], tokenLogin(token)),
  steps: fc.array(step(token), { minLength: 1, maxLength: 25 }),
  ending: fc.constantFrom<Ending>('quit', 'quit', 'drop', 'half-close'),
});

t.test('live fuzz: random and mutated sessions get well-formed replies, in time; the server goes on', async (t) => {
  const certs = makeCertificates();
  t.teardown(() => certs.remove());
  const files = `certificate = "${certs.cert}"  private_key = "${certs.key}"`;
  t.teardown(() => rmSync(keyDir, { recursive: true, force: true }));
  const f = await fixture(t, {
    listeners: `listen "pop3" { address = "127.0.0.1"  port = 0  tls = stls  plaintext_auth = always  ${files} }`,
    log: 'log { destination = stdout  level = warn }',
    limits: 'auth_failure_delay_ms = 0  max_connections_per_address = 1000',
    extra: oauth2Section(`jwks = "${JWKS_FILE}"`),
  });
  // Valid for a day: `npm run fuzz` runs long.
  const token = await sign(KEY, claimsFor(USER, { exp: Math.floor(Date.now() / 1000) + 86_400 }));
  const ca = readFileSync(certs.ca, 'utf8');
  const md = f.mail.maildir(USER);
  await f.db.addUser(USER, PASSWORD, md);
  const refill = (): void => {
    const have = readdirSync(join(md, 'new')).length + readdirSync(join(md, 'cur')).length;
    if (have < 3) MESSAGES.forEach((m) => putMessage(md, m));
  };

  /** A clean session must work after each fuzzed one (waiting out the lock of a dropped one). */
  const cleanLogin = async (): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      const { client, greeting } = await Pop3Client.greeted(f.server.port);
      try {
        if (!greeting.ok) throw new Error(`greeting ${greeting.text}`);
        const r = await client.login(USER, PASSWORD);
        if (!r.ok && r.text.startsWith('[IN-USE]') && attempt < 100) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          continue;
        }
        if (!r.ok) throw new FuzzFailure(`clean login failed after a fuzzed session: ${r.text}`);
        if (!(await client.cmd('STAT')).ok) throw new FuzzFailure('STAT failed in a clean session');
        const quit = await client.cmd('QUIT');
        if (!quit.ok) throw new FuzzFailure(`QUIT failed in a clean session: ${quit.text}`);
        return;
      } finally {
        client.destroy();
      }
    }
  };

  let sessions = 0;
  let steps = 0;
  const seen = { 'logged in': 0, 'STLS upgrades': 0, 'closed for bad commands': 0, 'RETR/TOP bodies': 0, 'SASL continuations': 0 };
  await fc.assert(
    fc.asyncProperty(session(token), async ({ prelude, steps: rest, ending }) => {
      const plan = [...prelude, ...rest];
      refill();
      sessions++;
      const wire = await FuzzWire.open(f.server.port);
      try {
        let open = true;
        for (const s of plan) {
          steps++;
          try {
            if ((await wire.step(s.writes, ca)) === 'closed') {
              open = false;
              break;
            }
          } catch (e) {
            throw new FuzzFailure(`${s.label}: ${(e as Error).message}`);
          }
        }
        if (open && ending === 'quit') {
          const quit = [Buffer.from('\r\nQUIT\r\n')]; // the CRLF ends any unfinished line first
          if ((await wire.step(quit, ca)) !== 'closed') throw new FuzzFailure('QUIT did not close the session');
        } else if (open && ending === 'half-close') {
          wire.end();
          await wire.expectClose('a half-close');
        }
      } finally {
        wire.destroy();
        if (wire.transcript.some((r) => r.startsWith(`+OK ${USER} has`))) seen['logged in']++;
        if (wire.secure) seen['STLS upgrades']++;
        if (wire.transcript.includes('-ERR too many bad commands, closing')) seen['closed for bad commands']++;
        seen['SASL continuations'] += wire.transcript.filter((r) => r.startsWith('+ ')).length;
        seen['RETR/TOP bodies'] += wire.transcript.filter((r) => /^\+OK (\d+ octets|top of message follows)$/.test(r)).length;
      }
      await cleanLogin();
    }),
    params(60, 0.05),
  );
  t.comment(`sessions: ${sessions}, steps: ${steps}, ${Object.entries(seen).map(([k, v]) => `${k}: ${v}`).join(', ')}`);
  const internal = f.server.lines.filter((l) => /session failed|command failed|internal error/.test(l));
  t.same(internal, [], 'no internal error logged');
  t.ok(sessions >= runs(60, 0.05), `${sessions} fuzzed sessions, ${steps} steps`);
  await cleanLogin();
  t.pass('a clean login works at the end');
});
