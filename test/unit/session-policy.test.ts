// RFC 2449 LOGIN-DELAY and EXPIRE through bytes alone (test/unit/session-bytes' way): SQLite
// accounts with the policy columns, a temporary maildir, one hand-moved clock shared by the
// sessions of a test (as the worker threads of one server share their host's memory).
import t from 'tap';
import { existsSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { ByteSessions, type ByteSession } from '../helpers/byte-session';
import { ManualClock } from '../helpers/manual-clock';
import { putMessage, sampleMessage } from '../helpers/maildir';

const CRLF = '\r\n';
const DAY = 86_400_000;

async function capa(c: ByteSession): Promise<string[]> {
  const reply = await c.exchange('CAPA\r\n', /\r\n\.\r\n$/);
  return reply.split(CRLF).slice(1, -2);
}

/** USER and PASS; the PASS reply (the greeting, written at open, is taken away first). */
async function login(c: ByteSession, user: string, password: string): Promise<string> {
  return (await c.exchange(`USER ${user}\r\nPASS ${password}\r\n`, /\r\n.*\r\n$/)).split(CRLF)[1] ?? '';
}

const policyLines = (caps: string[]): string[] => caps.filter((l) => /^(LOGIN-DELAY|EXPIRE)\b/.test(l));

t.test('CAPA: no policy lines without a policy; the defaults, with USER where the query returns the column', async (t) => {
  const none = new ByteSessions(t);
  none.addUser('ann', 'pw');
  const a = none.open();
  await a.wire.until(/ready\r\n$/);
  t.same(policyLines(await capa(a)), [], 'nothing configured: CAPA as before');

  const fixed = new ByteSessions(t, { extra: 'policy { login_delay = 900  expire = 30 }' });
  fixed.addUser('bea', 'pw');
  const b = fixed.open();
  await b.wire.until(/ready\r\n$/);
  t.same(policyLines(await capa(b)), ['LOGIN-DELAY 900', 'EXPIRE 30'], 'server-wide values, no USER');
  t.match(await login(b, 'bea', 'pw'), /^\+OK/);
  t.same(policyLines(await capa(b)), ['LOGIN-DELAY 900', 'EXPIRE 30'], 'the same after login');

  const perUser = new ByteSessions(t, { policyColumns: true, extra: 'policy { login_delay = 900  expire = 30 }' });
  perUser.addUser('own', 'pw', { loginDelay: 300, expire: 'NEVER' });
  perUser.addUser('dflt', 'pw');
  perUser.addUser('none', 'pw', { loginDelay: 0, expire: '0' });
  const c = perUser.open();
  await c.wire.until(/ready\r\n$/);
  t.same(policyLines(await capa(c)), ['LOGIN-DELAY 900 USER', 'EXPIRE 30 USER'], 'before login: the defaults, USER (RFC 2449 §6.5, §6.7)');
  t.match(await login(c, 'own', 'pw'), /^\+OK/);
  t.same(policyLines(await capa(c)), ['LOGIN-DELAY 300', 'EXPIRE NEVER'], "after login: the user's own values");
  const d = perUser.open();
  t.match(await login(d, 'dflt', 'pw'), /^\+OK/);
  t.same(policyLines(await capa(d)), ['LOGIN-DELAY 900', 'EXPIRE 30'], 'NULL columns: the defaults');
  const e = perUser.open();
  t.match(await login(e, 'none', 'pw'), /^\+OK/);
  t.same(policyLines(await capa(e)), ['EXPIRE 0'], 'a delay of 0 is no delay; EXPIRE 0 is said');

  const columnsOnly = new ByteSessions(t, { policyColumns: true });
  const f = columnsOnly.open();
  await f.wire.until(/ready\r\n$/);
  t.same(policyLines(await capa(f)), ['LOGIN-DELAY 0 USER', 'EXPIRE NEVER USER'], 'columns without defaults: none by default, USER');
});

t.test('LOGIN-DELAY: refused then allowed on the clock; a wrong password still says [AUTH]; no failed-login penalty', async (t) => {
  const s = new ByteSessions(t, { policyColumns: true, extra: 'policy { login_delay = 900 }' });
  s.addUser('carl', 'pw');
  s.addUser('fast', 'pw', { loginDelay: 60 });
  const clock = new ManualClock();
  const first = s.open({ clock, failureDelayMs: 1000 });
  t.match(await login(first, 'carl', 'pw'), /^\+OK carl has 0 messages/);
  await first.exchange('QUIT\r\n', /\r\n$/);
  clock.advance(100_000);
  const second = s.open({ clock, failureDelayMs: 1000 });
  t.equal(await login(second, 'carl', 'pw'), '-ERR [LOGIN-DELAY] too soon after the previous login: try again in 800 seconds');
  t.equal(clock.waiting, 2, 'no failed-login delay is waiting (only the session timers)');
  t.ok(s.lines.some((l) => /login refused: login delay user="carl" wait="800"/.test(l)), 'logged');
  t.equal(await second.exchange('CAPA\r\n', /\r\n\.\r\n$/).then((r) => r.includes('LOGIN-DELAY 900 USER')), true, 'the session goes on in AUTHORIZATION');
  const plain = Buffer.from('\0carl\0pw').toString('base64');
  t.equal(await second.exchange(`AUTH PLAIN ${plain}\r\n`, /\r\n$/), '-ERR [LOGIN-DELAY] too soon after the previous login: try again in 800 seconds\r\n', 'AUTH PLAIN alike');
  const wrong = s.open({ clock });
  t.equal(await login(wrong, 'carl', 'nope'), '-ERR [AUTH] Authentication failed', 'a wrong password tells nothing about the delay');
  t.match(await login(s.open({ clock }), 'fast', 'pw'), /^\+OK/, "another user's delay is not carl's");
  clock.advance(800_000);
  t.match(await login(s.open({ clock }), 'carl', 'pw'), /^\+OK/, '900 s after the first login: allowed');
  t.match(await login(s.open({ clock }), 'carl', 'pw'), /^-ERR \[LOGIN-DELAY\]/, 'and that login starts the delay again');
  clock.advance(60_000);
  t.match(await login(s.open({ clock }), 'fast', 'pw'), /^\+OK/, 'the per-user delay of 60 s');
});

t.test('LOGIN-DELAY: the last_login column counts; a login whose maildrop cannot be opened does not', async (t) => {
  const s = new ByteSessions(t, { policyColumns: true, extra: 'policy { login_delay = 900 }' });
  const clock = new ManualClock();
  const seconds = Math.floor(clock.now() / 1000);
  s.addUser('recent', 'pw', { lastLogin: seconds - 100 });
  s.addUser('long-ago', 'pw', { lastLogin: seconds - 1000 });
  const md = s.addUser('broken', 'pw');
  t.match(await login(s.open({ clock }), 'recent', 'pw'), /^-ERR \[LOGIN-DELAY\] .* in 800 seconds$/, 'last_login 100 s ago');
  t.match(await login(s.open({ clock }), 'long-ago', 'pw'), /^\+OK/, 'last_login 1000 s ago');
  renameSync(md, `${md}.away`);
  t.match(await login(s.open({ clock }), 'broken', 'pw'), /^-ERR \[SYS\/TEMP\]/, 'the maildrop cannot be opened');
  renameSync(`${md}.away`, md);
  t.match(await login(s.open({ clock }), 'broken', 'pw'), /^\+OK/, 'so that attempt was no login: no delay now');
});

/** A maildrop with three messages in new/; the names. */
function threeMessages(s: ByteSessions, user: string, expire: string): { md: string; names: string[] } {
  const md = s.addUser(user, 'pw', { expire });
  return { md, names: [1, 2, 3].map((i) => putMessage(md, sampleMessage(i))) };
}

async function uidls(c: ByteSession): Promise<string[]> {
  const reply = await c.exchange('UIDL\r\n', /\r\n\.\r\n$/);
  return reply.split(CRLF).slice(1, -2).map((l) => l.split(' ')[1] ?? '');
}

const listing = (md: string, dir: 'new' | 'cur'): string[] => readdirSync(join(md, dir)).sort();

t.test('EXPIRE n: RETR moves a message to cur/ with S at QUIT (UIDL kept); n days later the next QUIT removes it', async (t) => {
  const s = new ByteSessions(t, { policyColumns: true });
  const { md, names } = threeMessages(s, 'dora', '30');
  const [one = '', two = '', three = ''] = names;
  const clock = new ManualClock();
  const a = s.open({ clock });
  t.match(await login(a, 'dora', 'pw'), /^\+OK dora has 3 messages/);
  const before = await uidls(a);
  await a.exchange('RETR 1\r\n', /\r\n\.\r\n$/);
  await a.exchange('TOP 2 0\r\n', /\r\n\.\r\n$/);
  t.same(listing(md, 'cur'), [], 'nothing moves before QUIT');
  t.equal(await a.exchange('QUIT\r\n', /\r\n$/), '+OK r2d2 signing off\r\n');
  t.same(listing(md, 'cur'), [`${one}:2,S`], 'RETR 1 recorded: cur/ with S, the same base name');
  t.same(listing(md, 'new'), [two, three].sort(), 'TOP is no retrieval');

  clock.advance(29 * DAY);
  const b = s.open({ clock });
  t.match(await login(b, 'dora', 'pw'), /^\+OK dora has 3 messages/);
  t.same(await uidls(b), before, 'UIDL unchanged by the move');
  t.equal(await b.exchange('QUIT\r\n', /\r\n$/), '+OK r2d2 signing off\r\n', '29 days: kept');
  t.same(listing(md, 'cur'), [`${one}:2,S`]);

  clock.advance(2 * DAY);
  const c = s.open({ clock });
  t.match(await login(c, 'dora', 'pw'), /^\+OK dora has 3 messages/, 'still listed until the QUIT');
  t.equal(await c.exchange('QUIT\r\n', /\r\n$/), '+OK r2d2 signing off (1 message expired)\r\n', '31 days: expired at QUIT');
  t.same(listing(md, 'cur'), []);
  t.same(listing(md, 'new'), [two, three].sort(), 'messages never retrieved stay');
  t.ok(s.lines.some((l) => /update done user="dora" deleted="0" failed="0" expired="1" recorded="0"/.test(l)), 'logged');
});

t.test('EXPIRE 0 removes what was retrieved at QUIT; RSET forgets the retrievals; a dropped session changes nothing', async (t) => {
  const s = new ByteSessions(t, { policyColumns: true });
  const { md, names } = threeMessages(s, 'eve', '0');
  const [one = '', two = '', three = ''] = names;
  const dropped = s.open();
  t.match(await login(dropped, 'eve', 'pw'), /^\+OK/);
  await dropped.exchange('RETR 1\r\nRETR 2\r\n', /\r\n\.\r\n.*\r\n\.\r\n$/s);
  dropped.runner.peerClosed();
  await dropped.ended;
  t.same(listing(md, 'new'), names.slice().sort(), 'no QUIT: nothing removed, nothing moved');
  t.same(listing(md, 'cur'), []);

  const reset = s.open();
  t.match(await login(reset, 'eve', 'pw'), /^\+OK/);
  await reset.exchange('RETR 3\r\n', /\r\n\.\r\n$/);
  await reset.exchange('RSET\r\n', /\r\n$/);
  await reset.exchange('RETR 1\r\n', /\r\n\.\r\n$/);
  t.equal(await reset.exchange('QUIT\r\n', /\r\n$/), '+OK r2d2 signing off (1 message expired)\r\n');
  t.same(listing(md, 'new'), [two, three].sort(), 'RETR 1 after RSET removed; RETR 3 before it forgotten');
  t.notOk(existsSync(join(md, 'new', one)));
});

t.test('EXPIRE NEVER: retrievals are not even recorded', async (t) => {
  const s = new ByteSessions(t, { policyColumns: true, extra: 'policy { expire = 7 }' });
  const { md, names } = threeMessages(s, 'finn', 'never');
  const c = s.open();
  t.match(await login(c, 'finn', 'pw'), /^\+OK/);
  t.ok((await capa(c)).includes('EXPIRE NEVER'));
  await c.exchange('RETR 1\r\n', /\r\n\.\r\n$/);
  t.equal(await c.exchange('QUIT\r\n', /\r\n$/), '+OK r2d2 signing off\r\n');
  t.same(listing(md, 'new'), names.slice().sort());
  t.same(listing(md, 'cur'), []);
});
