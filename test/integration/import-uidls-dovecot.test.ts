// Moving from Dovecot without a re-download: Debian's Dovecot (default pop3_uidl_format) serves
// a maildrop to mpop and fetchmail keeping mail on the server; `r2d2 maildir import-uidls` reads
// its dovecot-uidlist; r2d2 then serves the same maildrop to the same clients with the same
// memory files: they fetch nothing, and after one `r2d2 deliver`, exactly one message.
import { chmodSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { UIDL_INDEX_FILE } from '../../src/maildrop/uidl-index';
import { DovecotPop3, giveToMail } from '../helpers/dovecot-pop3';
import { fixture, type Fixture } from '../helpers/fixture';
import { KeepClients } from '../helpers/keep-clients';
import { rfc822Size, sampleMessage } from '../helpers/maildir';
import { Pop3Client } from '../helpers/pop3-client';
import { run } from '../helpers/run';

const R2D2 = path.join(__dirname, '../../../bin/r2d2');
const USER = 'alice@example.com';
const PASSWORD = 'dovecot-Pa55';
const COUNT = 6;

type Names = 'z' | 'dovecot';

/** Message i as a file: r2d2's Z-sized names, or Dovecot's `,S=,W=` names without a Z; half in cur/. */
function put(md: string, i: number, names: Names, header = ''): void {
  const bytes = Buffer.from(header + sampleMessage(i));
  const size = rfc822Size(bytes);
  const base = names === 'z' ? `${1700000000 + i}.M${i}P1Q1Z${size.toString(16).toUpperCase()}.mx1` : `${1700000000 + i}.M${i}P77.mx1,S=${bytes.length},W=${size}`;
  writeFileSync(path.join(md, i % 2 === 0 ? 'new' : 'cur', i % 2 === 0 ? base : `${base}:2,S`), bytes);
}

async function uidls(port: number): Promise<string[]> {
  const { client } = await Pop3Client.greeted(port);
  try {
    const login = await client.login(USER, PASSWORD);
    if (!login.ok) throw new Error(`login: ${login.text}`);
    const listing = (await client.cmd('UIDL')).lines ?? [];
    await client.cmd('QUIT');
    return listing.map((line) => line.split(' ')[1] ?? '').sort();
  } finally {
    client.destroy();
  }
}

const importUidls = (...args: string[]): ReturnType<typeof run> => run(R2D2, ['maildir', 'import-uidls', '--from', ...args]);

interface Scenario {
  readonly f: Fixture;
  readonly md: string;
  readonly clients: KeepClients;
  /** The UIDLs Dovecot served. */
  readonly served: string[];
}

/** A maildrop served by Dovecot to both clients (each fetches every message), Dovecot stopped after. */
async function servedByDovecot(t: Test, names: Names, o: { controlDir?: string; reuseXuidl?: boolean; header?: (i: number) => string } = {}): Promise<Scenario> {
  const f = await fixture(t);
  chmodSync(f.mail.path, 0o755); // Dovecot reads as `mail`
  const md = f.mail.maildir('alice');
  for (let i = 0; i < COUNT; i++) put(md, i, names, o.header?.(i) ?? '');
  giveToMail(md);
  await f.db.addUser(USER, PASSWORD, md);
  const clients = new KeepClients(USER, PASSWORD);
  t.teardown(() => clients.remove());
  const dovecot = await DovecotPop3.start({ user: USER, password: PASSWORD, maildir: md, ...o });
  try {
    const served = await uidls(dovecot.port);
    t.equal(served.length, COUNT, 'Dovecot lists every message', { log: dovecot.log() });
    const mpop = await clients.mpop(dovecot.port);
    t.equal(mpop.count, COUNT, 'mpop fetched everything from Dovecot', { stderr: mpop.result.stderr });
    const fetchmail = await clients.fetchmail(dovecot.port);
    t.equal(fetchmail.count, COUNT, 'fetchmail fetched everything from Dovecot', { stderr: fetchmail.result.stderr });
    t.equal((await clients.mpop(dovecot.port)).count, 0, 'and nothing on a second run (UIDLs remembered)');
    return { f, md, clients, served };
  } finally {
    await dovecot.stop();
  }
}

/** r2d2 serves what Dovecot served: same UIDLs, nothing fetched; then one delivery, fetched once. */
async function servedByR2d2(t: Test, s: Scenario): Promise<void> {
  t.same(await uidls(s.f.server.port), s.served, 'r2d2 serves the UIDLs Dovecot served');
  const mpop = await s.clients.mpop(s.f.server.port);
  t.equal(mpop.result.code, 0, 'mpop exit 0', { stderr: mpop.result.stderr });
  t.equal(mpop.count, 0, 'mpop fetches nothing from r2d2');
  const fetchmail = await s.clients.fetchmail(s.f.server.port);
  t.equal(fetchmail.result.code, 1, 'fetchmail: no new mail', { stderr: fetchmail.result.stderr, stdout: fetchmail.result.stdout.toString() });
  t.equal(fetchmail.count, 0, 'fetchmail fetches nothing from r2d2');

  const delivered = await run(R2D2, ['deliver', '--maildir', s.md], { input: sampleMessage(99) });
  t.equal(delivered.code, 0, 'r2d2 deliver', { stderr: delivered.stderr });
  t.equal((await s.clients.mpop(s.f.server.port)).count, 1, 'mpop fetches exactly the new message');
  t.equal((await s.clients.fetchmail(s.f.server.port)).count, 1, 'fetchmail fetches exactly the new message');
  t.equal((await s.clients.mpop(s.f.server.port)).count, 0, 'and then nothing');
}

t.test('Dovecot, names with a Z size, dovecot-uidlist in a CONTROL= folder', async (t) => {
  const control = mkdtempSync(path.join(tmpdir(), 'r2d2-dovecot-control-'));
  t.teardown(() => rmSync(control, { recursive: true, force: true }));
  giveToMail(control);
  const s = await servedByDovecot(t, 'z', { controlDir: control });

  const missing = await importUidls('dovecot', s.md);
  t.equal(missing.code, 66, 'without --control-dir: no dovecot-uidlist in the maildir');
  t.match(missing.stderr, /dovecot-uidlist: no such file \(with mail_location \.\.\.:CONTROL=DIR, give --control-dir\)/);

  const dry = await importUidls('dovecot', '--control-dir', control, '--dry-run', s.md);
  t.equal(dry.code, 0, 'dry run', { stderr: dry.stderr });
  t.match(dry.stdout.toString(), `${s.md}: would write r2d2-uidls: ${COUNT} entries`);
  t.notOk(readdirSync(s.md).includes(UIDL_INDEX_FILE), 'a dry run writes nothing');

  const first = await importUidls('dovecot', '--control-dir', control, s.md);
  t.equal(first.code, 0, 'import', { stderr: first.stderr, stdout: first.stdout.toString() });
  t.match(first.stdout.toString(), `${s.md}: ${COUNT} messages: ${COUNT} imported (${COUNT} new), 0 already r2d2's, 0 not found in the uidlist, 0 conflicts, 0 invalid, 0 renamed`);
  const index = readFileSync(path.join(s.md, UIDL_INDEX_FILE));

  // What must not disturb it: a flag change, a move new/ -> cur/ (EXPIRE's), `fix`, a second import.
  const fresh = readdirSync(path.join(s.md, 'new'));
  for (const name of fresh) renameSync(path.join(s.md, 'new', name), path.join(s.md, 'cur', `${name}:2,S`));
  for (const name of readdirSync(path.join(s.md, 'cur')).filter((n) => n.endsWith(':2,S'))) renameSync(path.join(s.md, 'cur', name), path.join(s.md, 'cur', name.replace(/:2,S$/, ':2,RS')));
  t.equal((await run(R2D2, ['maildir', 'fix', s.md])).code, 0, 'fix finds nothing to do');
  const again = await importUidls('dovecot', '--control-dir', control, s.md);
  t.equal(again.code, 0);
  t.match(again.stdout.toString(), `${COUNT} imported (0 new)`, 'a second import changes nothing');
  t.same(readFileSync(path.join(s.md, UIDL_INDEX_FILE)), index, 'the index is the same, byte for byte');

  await servedByR2d2(t, s);
});

t.test('Dovecot, names without a Z size (Dovecot\'s own ,S=,W= names), dovecot-uidlist in the maildir', async (t) => {
  const s = await servedByDovecot(t, 'dovecot');
  const r = await importUidls('dovecot', s.md);
  t.equal(r.code, 0, 'import', { stderr: r.stderr, stdout: r.stdout.toString() });
  t.match(r.stdout.toString(), `${COUNT} imported (${COUNT} new), 0 already r2d2's, 0 not found in the uidlist, 0 conflicts, 0 invalid, ${COUNT} renamed (Z size added)`);
  for (const sub of ['new', 'cur']) for (const name of readdirSync(path.join(s.md, sub))) t.match(name, /^\d+\.M\d+P77Z[0-9A-F]+\.mx1,S=/, `${sub}/${name} has a Z size`);
  const check = await run(R2D2, ['maildir', 'check', s.md]);
  t.equal(check.code, 0, 'check: nothing left to fix', { stdout: check.stdout.toString() });
  const again = await importUidls('dovecot', s.md);
  t.match(again.stdout.toString(), `${COUNT} imported (0 new)`, 'idempotent after the renames (entries keyed by the Z-less name)');
  t.equal(again.code, 0);
  await servedByR2d2(t, s);
});

t.test('Dovecot with pop3_reuse_xuidl: X-UIDL headers, imported with --from xuidl', async (t) => {
  // Odd spellings: Dovecot takes the field case-insensitively and skips the space after the colon.
  const header = (i: number): string => (i === 3 ? 'x-uidl : Kept/By:Qpopper=3\n' : `X-Uidl:   fetched-${i}.by-qpopper!\n`);
  const s = await servedByDovecot(t, 'dovecot', { reuseXuidl: true, header });
  t.same(s.served, ['Kept/By:Qpopper=3', ...[0, 1, 2, 4, 5].map((i) => `fetched-${i}.by-qpopper!`)].sort(), 'Dovecot served the X-UIDL headers');
  const r = await importUidls('xuidl', s.md);
  t.equal(r.code, 0, 'import', { stderr: r.stderr, stdout: r.stdout.toString() });
  t.match(r.stdout.toString(), `${COUNT} imported (${COUNT} new)`);
  await servedByR2d2(t, s);
});

t.test('Dovecot with other pop3_uidl_formats: r2d2 serves what Dovecot expanded', async (t) => {
  const f = await fixture(t);
  chmodSync(f.mail.path, 0o755);
  const md = f.mail.maildir('alice');
  for (let i = 0; i < 3; i++) put(md, i, 'dovecot');
  giveToMail(md);
  await f.db.addUser(USER, PASSWORD, md);
  // %f is the base name (and %g too, without a G field); widths, offsets and modifiers as var_expand.
  for (const format of ['%v.%u-%f', '%Uf', '%08Xv-%11.2g']) {
    const dovecot = await DovecotPop3.start({ user: USER, password: PASSWORD, maildir: md, uidlFormat: format });
    let served: string[];
    try {
      served = await uidls(dovecot.port);
    } finally {
      await dovecot.stop();
    }
    const r = await importUidls('dovecot', '--uidl-format', format, md);
    t.equal(r.code, 0, `${format}: import`, { stderr: r.stderr, stdout: r.stdout.toString() });
    t.same(await uidls(f.server.port), served, `${format}: r2d2 serves what Dovecot served`);
  }
});
