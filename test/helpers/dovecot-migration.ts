// Moving from Dovecot, shared by test/integration/import-uidls-dovecot*.test.ts: a maildrop that
// Debian's Dovecot served to mpop and fetchmail keeping mail on the server, and the proof that
// r2d2 serves it to the same clients with the same memory files without a re-download.
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Test } from 'tap';
import { DovecotPop3, giveToMail } from './dovecot-pop3';
import { fixture, type Fixture } from './fixture';
import { KeepClients } from './keep-clients';
import { rfc822Size, sampleMessage } from './maildir';
import { run } from './run';
import { servedUidls } from './served-uidls';

export const R2D2 = path.join(__dirname, '../../../bin/r2d2');
export const USER = 'alice@example.com';
export const PASSWORD = 'dovecot-Pa55';
export const COUNT = 6;

export type Names = 'z' | 'dovecot';

/** Message i as a file: r2d2's Z-sized names, or Dovecot's `,S=,W=` names without a Z; half in cur/. */
export function put(md: string, i: number, names: Names, header = ''): void {
  const bytes = Buffer.from(header + sampleMessage(i));
  const size = rfc822Size(bytes);
  const base = names === 'z' ? `${1700000000 + i}.M${i}P1Q1Z${size.toString(16).toUpperCase()}.mx1` : `${1700000000 + i}.M${i}P77.mx1,S=${bytes.length},W=${size}`;
  writeFileSync(path.join(md, i % 2 === 0 ? 'new' : 'cur', i % 2 === 0 ? base : `${base}:2,S`), bytes);
}

export const uidls = (port: number): Promise<string[]> => servedUidls(port, USER, PASSWORD);

export const importUidls = (...args: string[]): ReturnType<typeof run> => run(R2D2, ['maildir', 'import-uidls', '--from', ...args]);

export interface Scenario {
  readonly f: Fixture;
  readonly md: string;
  readonly clients: KeepClients;
  /** The UIDLs Dovecot served. */
  readonly served: string[];
}

/** A maildrop served by Dovecot to both clients (each fetches every message), Dovecot stopped after. */
export async function servedByDovecot(t: Test, names: Names, o: { controlDir?: string; reuseXuidl?: boolean; header?: (i: number) => string } = {}): Promise<Scenario> {
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
export async function servedByR2d2(t: Test, s: Scenario): Promise<void> {
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
