// RFC 2449 EXPIRE end to end: a real server on a real MariaDB, real sockets, the sessions' clock
// moved by hand (no sleeping for days). RETR'd messages move to cur/ with S at QUIT, keeping
// their UIDL; n days later the next QUIT removes them (maildirsize records it as it records
// DELE); EXPIRE 0 removes them at once; NEVER touches nothing; a dropped connection changes nothing.
import t from 'tap';
import { readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { uniqueName } from '../../src/deliver/unique-name';
import { CACHE_MIN_MESSAGES } from '../../src/maildrop/snapshot-cache';
import { fixture, type Fixture } from '../helpers/fixture';
import { ManualClock } from '../helpers/manual-clock';
import { putMessage, sampleMessage } from '../helpers/maildir';
import type { Pop3Client } from '../helpers/pop3-client';

const DAY = 86_400_000;
const QUERY = 'SELECT maildir, expire FROM mailbox WHERE username = %u AND password = SHA2(%p, 256) AND active = 1';

async function expiring(t: Parameters<typeof fixture>[0], clock: ManualClock): Promise<Fixture> {
  const f = await fixture(t, { query: QUERY, extra: 'policy { expire = 30 }', clock });
  await f.db.query(`ALTER TABLE \`${f.db.name}\`.mailbox ADD expire VARCHAR(8) NULL`);
  return f;
}

/** A user with three messages in new/; their names. */
async function user(f: Fixture, name: string, expire: string | null): Promise<{ md: string; names: string[] }> {
  const md = f.mail.maildir(name);
  await f.db.addUser(name, 'pw', md);
  await f.db.query(`UPDATE \`${f.db.name}\`.mailbox SET expire = ? WHERE username = ?`, [expire, name]);
  return { md, names: [1, 2, 3].map((i) => putMessage(md, sampleMessage(i))) };
}

const files = (md: string, dir: 'new' | 'cur'): string[] => readdirSync(join(md, dir)).sort();
const uidls = async (c: Pop3Client): Promise<string[]> => ((await c.cmd('UIDL')).lines ?? []).map((l) => l.split(' ')[1] ?? '');
const policyLines = (lines: readonly string[] | undefined): string[] => (lines ?? []).filter((l) => /^(LOGIN-DELAY|EXPIRE)\b/.test(l));

async function quit(c: Pop3Client): Promise<string> {
  const reply = await c.cmd('QUIT');
  await c.waitClosed();
  return `${reply.ok ? '+OK' : '-ERR'} ${reply.text}`;
}

t.test('EXPIRE 30: recorded at QUIT, kept 30 days, removed by the next QUIT after that; a dropped session changes nothing', async (t) => {
  const clock = new ManualClock();
  const f = await expiring(t, clock);
  const { md, names } = await user(f, 'kate', null);
  const [one = '', two = '', three = ''] = names;
  writeFileSync(join(md, 'maildirsize'), `1000000S\n${names.reduce((n, name) => n + statSync(join(md, 'new', name)).size, 0)} 3\n`);

  const a = await f.client();
  t.same(policyLines((await a.cmd('CAPA')).lines), ['EXPIRE 30 USER'], 'before login: the default, per user');
  t.ok((await a.login('kate', 'pw')).ok);
  t.same(policyLines((await a.cmd('CAPA')).lines), ['EXPIRE 30'], 'after login: hers (NULL: the default)');
  const before = await uidls(a);
  t.ok((await a.cmd('RETR 1')).ok);
  t.ok((await a.cmd('RETR 2')).ok);
  t.ok((await a.cmd('DELE 2')).ok);
  t.ok((await a.cmd('TOP 3 0')).ok);
  t.equal(await quit(a), '+OK r2d2 signing off (1 message deleted)');
  t.same(files(md, 'cur'), [`${one}:2,S`], 'RETR 1: in cur/ with S; RETR 2 was deleted by DELE');
  t.same(files(md, 'new'), [three], 'TOP 3 is no retrieval');

  clock.advance(31 * DAY);
  const dropped = await f.loggedIn('kate', 'pw');
  t.same(await uidls(dropped), [before[0], before[2]], 'UIDL of the moved message unchanged');
  dropped.destroy();
  await f.server.waitForLine(/disconnected: peer closed, sequence="upU"/);
  t.same(files(md, 'cur'), [`${one}:2,S`], 'a dropped connection expires nothing');

  const b = await f.loggedIn('kate', 'pw');
  t.equal((await b.cmd('STAT')).text.split(' ')[0], '2', 'still listed until the QUIT');
  t.equal(await quit(b), '+OK r2d2 signing off (1 message expired)');
  t.same(files(md, 'cur'), [], 'expired');
  t.same(files(md, 'new'), [three], 'never retrieved: stays');
  const size = (name: string): number => Buffer.byteLength(sampleMessage(Number(names.indexOf(name)) + 1));
  t.same(readFileSync(join(md, 'maildirsize'), 'utf8').split('\n').slice(2, -1), [`-${size(two)} -1`, `-${size(one)} -1`], 'maildirsize: the DELE, then the expiry');
  await f.server.waitForLine(/update done user="kate" deleted="0" failed="0" expired="1" recorded="0"/);
});

t.test('EXPIRE 0 removes what was retrieved at QUIT; EXPIRE NEVER moves nothing', async (t) => {
  const clock = new ManualClock();
  const f = await expiring(t, clock);
  const zero = await user(f, 'zed', '0');
  const never = await user(f, 'nev', 'NEVER');
  const z = await f.loggedIn('zed', 'pw');
  t.same(policyLines((await z.cmd('CAPA')).lines), ['EXPIRE 0']);
  t.ok((await z.cmd('RETR 2')).ok);
  t.equal(await quit(z), '+OK r2d2 signing off (1 message expired)');
  t.same(files(zero.md, 'new'), [zero.names[0], zero.names[2]].sort(), 'RETR 2 removed at QUIT, the others stay');
  t.same(files(zero.md, 'cur'), []);
  const n = await f.loggedIn('nev', 'pw');
  t.same(policyLines((await n.cmd('CAPA')).lines), ['EXPIRE NEVER']);
  t.ok((await n.cmd('RETR 1')).ok);
  t.equal(await quit(n), '+OK r2d2 signing off');
  clock.advance(3650 * DAY);
  const again = await f.loggedIn('nev', 'pw');
  t.equal(await quit(again), '+OK r2d2 signing off');
  t.same(files(never.md, 'new'), never.names.slice().sort(), 'nothing moved, nothing removed');
});

t.test('a large maildrop served from the snapshot cache: the move at QUIT makes the next login list it again', async (t) => {
  const clock = new ManualClock();
  const f = await expiring(t, clock);
  const md = f.mail.maildir('big');
  await f.db.addUser('big', 'pw', md);
  const body = Buffer.from('Subject: s\n\nx\n');
  for (let i = 0; i < CACHE_MIN_MESSAGES; i++) writeFileSync(join(md, 'new', uniqueName(body.length + 3)), body);
  const past = new Date(Date.now() - 60_000);
  for (const sub of ['new', 'cur']) utimesSync(join(md, sub), past, past);
  const a = await f.loggedIn('big', 'pw');
  const before = await uidls(a);
  t.ok((await a.cmd('RETR 1')).ok);
  t.equal(await quit(a), '+OK r2d2 signing off');
  t.equal(files(md, 'cur').length, 1, 'moved to cur/');
  const b = await f.loggedIn('big', 'pw');
  t.same(await uidls(b), before, 'the same UIDLs in the same order');
  t.match((await b.cmd('RETR 1')).text, /^\d+ octets$/, 'the moved message is served from cur/ (no stale snapshot)');
});
