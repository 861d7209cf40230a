// mpop against r2d2, plain / STLS (tls_starttls on) / implicit (tls_starttls off), delivering
// into a Maildir: keep mode (with only_new, a second run fetches nothing), then delete mode.
// mpop stores LF line ends and prepends a Received header: compared after CRLF -> LF with
// prepended trace headers removed (see compareStored).
import t from 'tap';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareStored, matrixServer, MESSAGES, messageFiles, PASSWORD, populate, storedInMaildir, USER, type Mode } from '../helpers/client-matrix';
import { run } from '../helpers/run';

/**
 * The messages of an mboxrd file (mpop's mbox format): each starts with a `From ` line (dropped)
 * and is followed by an empty line (dropped); `>From ` lines had one `>` added (removed).
 */
function splitMboxrd(file: Buffer): Buffer[] {
  const text = file.toString('latin1');
  const starts = [...text.matchAll(/(?:^|\n\n)From [^\n]*\n/g)];
  return starts.map((m, i) => {
    const begin = (m.index ?? 0) + m[0].length;
    const next = starts[i + 1];
    const end = next === undefined ? text.length - 1 : (next.index ?? 0) + 1;
    return Buffer.from(text.slice(begin, end).replace(/^>(>*From )/gm, '$1'), 'latin1');
  });
}

t.test('mpop: plain, STLS and implicit TLS into a Maildir; keep, then delete', async (t) => {
  const f = await matrixServer(t);
  const md = await populate(f);
  const home = mkdtempSync(join(tmpdir(), 'r2d2-mpop-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  const tls: Record<Mode, string> = {
    plain: 'tls off',
    stls: `tls on\ntls_starttls on\ntls_trust_file ${f.certs.ca}`,
    implicit: `tls on\ntls_starttls off\ntls_trust_file ${f.certs.ca}`,
  };
  const fetch = async (label: string, mode: Mode, keep: boolean, uidls = `uidls-${mode}`, mbox = false) => {
    const into = join(home, label);
    for (const sub of ['tmp', 'new', 'cur']) mkdirSync(join(into, sub), { recursive: true });
    const mboxFile = join(home, `${label}.mbox`);
    const conf = join(home, `${label}.conf`);
    writeFileSync(
      conf,
      `account matrix
host ${mode === 'plain' ? '127.0.0.1' : 'localhost'}
port ${f.ports[mode]}
${tls[mode]}
auth user
user ${USER}
password ${PASSWORD}
keep ${keep ? 'on' : 'off'}
only_new on
uidls_file ${join(home, uidls)}
delivery ${mbox ? `mbox ${mboxFile}` : `maildir ${into}`}
`,
    );
    chmodSync(conf, 0o600);
    const r = await run('mpop', ['--file', conf, '--quiet', 'matrix'], { env: { ...process.env, HOME: home }, timeoutMs: 60000 });
    const raw = mbox ? readFileSync(mboxFile) : Buffer.alloc(0);
    return { r, raw, stored: mbox ? splitMboxrd(raw) : storedInMaildir(into) };
  };
  for (const mode of ['plain', 'stls', 'implicit'] as const) {
    const { r, stored } = await fetch(`keep-${mode}`, mode, true);
    t.equal(r.code, 0, `${mode}: mpop exit 0`, { stderr: r.stderr, stdout: r.stdout.toString() });
    const cmp = compareStored(stored, MESSAGES, true);
    t.same(cmp.missing, [], `${mode}: every message stored byte-exact (after CRLF -> LF)`);
    t.same(cmp.unexpected, [], `${mode}: nothing else stored`);
    t.same(cmp.added, ['received'], `${mode}: mpop prepended only its Received header`);
    t.equal(messageFiles(md), MESSAGES.length, `${mode}: keep: the maildrop is untouched`);
    const again = await fetch(`again-${mode}`, mode, true);
    t.equal(again.r.code, 0, `${mode}: second run`, { stderr: again.r.stderr });
    t.equal(again.stored.length, 0, `${mode}: second run: nothing new (UIDL remembered)`);
  }
  const mbox = await fetch('mbox-plain', 'plain', true, 'uidls-mbox', true);
  t.equal(mbox.r.code, 0, 'mbox: mpop exit 0', { stderr: mbox.r.stderr });
  t.match(mbox.raw.toString('latin1'), /\n>From the start of a line\n>>From quoted already\n/, 'mbox: body From lines were quoted');
  const inMbox = compareStored(mbox.stored, MESSAGES, true);
  t.same([inMbox.missing, inMbox.unexpected], [[], []], 'mbox (mboxrd, un-quoted here): every message byte-exact');
  const { r, stored } = await fetch('delete-stls', 'stls', false, 'uidls-delete');
  t.equal(r.code, 0, 'delete: mpop exit 0', { stderr: r.stderr });
  const cmp = compareStored(stored, MESSAGES, true);
  t.same([cmp.missing, cmp.unexpected], [[], []], 'delete: every message stored byte-exact');
  t.equal(messageFiles(md), 0, 'delete: the maildrop is empty after QUIT');
  await f.server.waitForLine(/update done user="matrix@example.com" deleted="7" failed="0"/);
});
