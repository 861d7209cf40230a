// fetchmail against r2d2, plain / STLS (sslproto) / implicit (ssl): keep and delete modes. Each
// message goes through an MDA script into a file of its own; fetchmail hands the MDA LF line
// ends and prepends its Received header, so the comparison is after CRLF -> LF and with
// prepended trace headers removed (see compareStored). Keep mode with UIDL: a second run
// fetches nothing new.
import t from 'tap';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareStored, longLine, matrixServer, mdaScript, MESSAGES, messageFiles, PASSWORD, populate, storedInFolder, USER, type Mode } from '../helpers/client-matrix';
import { run } from '../helpers/run';

// fetchmail 6.4 reads a message line into an 8 KB buffer: a longer line reaches the MDA cut in
// two with stray bytes between the parts (seen with the 10 KB line, which curl, poplib, mpop and
// getmail store intact). RFC 5322 caps lines at 998 octets, so its messages here carry an
// 8,000-octet line instead: still eight times the RFC's limit.
const LONGEST = Number(process.env['R2D2_FETCHMAIL_LINE'] ?? 8000);
const FETCHMAIL_MESSAGES = MESSAGES.map((m) => (m.name === '10240-octet line' ? longLine(LONGEST) : m));

t.test('fetchmail: plain, STLS and implicit TLS; keep, then delete', async (t) => {
  const f = await matrixServer(t);
  const md = await populate(f, FETCHMAIL_MESSAGES);
  const home = mkdtempSync(join(tmpdir(), 'r2d2-fetchmail-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  const tls: Record<Mode, string> = {
    plain: `sslproto '' no sslcertck`,
    stls: `sslproto 'TLS1.2+' sslcertck sslcertfile "${f.certs.ca}"`,
    implicit: `ssl sslcertck sslcertfile "${f.certs.ca}"`,
  };
  const fetch = async (label: string, mode: Mode, keep: boolean, fetchall: boolean) => {
    const out = join(home, label);
    mkdirSync(out);
    const rc = join(home, `${label}.rc`);
    writeFileSync(
      rc,
      `set no bouncemail
poll ${mode === 'plain' ? '127.0.0.1' : 'localhost'} with proto POP3 port ${f.ports[mode]} uidl
  user "${USER}" there with password "${PASSWORD}"
  options ${keep ? 'keep' : 'no keep'} ${fetchall ? 'fetchall' : ''} no rewrite ${tls[mode]}
  mda "${mdaScript(join(home, `${label}.mda`), out)}"
`,
    );
    chmodSync(rc, 0o600);
    const env = { ...process.env, HOME: home, FETCHMAILHOME: home };
    const r = await run('fetchmail', ['--fetchmailrc', rc, '--nosyslog', '--nodetach', '--idfile', join(home, `ids-${mode}`), '--pidfile', join(home, `${label}.pid`)], { env, timeoutMs: 60000 });
    return { r, stored: storedInFolder(out) };
  };
  for (const mode of ['plain', 'stls', 'implicit'] as const) {
    const { r, stored } = await fetch(`keep-${mode}`, mode, true, false);
    t.equal(r.code, 0, `${mode}: fetchmail exit 0 (mail retrieved)`, { stderr: r.stderr, stdout: r.stdout.toString() });
    const cmp = compareStored(stored, FETCHMAIL_MESSAGES, true);
    t.same(cmp.missing, [], `${mode}: every message stored byte-exact (after CRLF -> LF)`);
    t.same(cmp.unexpected, [], `${mode}: nothing else stored`);
    t.same(cmp.added, ['received'], `${mode}: fetchmail prepended only its Received header`);
    t.equal(messageFiles(md), FETCHMAIL_MESSAGES.length, `${mode}: keep: the maildrop is untouched`);
    const again = await fetch(`again-${mode}`, mode, true, false);
    t.equal(again.r.code, 1, `${mode}: second run: no new mail (UIDL remembered)`, { stderr: again.r.stderr });
    t.equal(again.stored.length, 0, `${mode}: second run stored nothing`);
  }
  const { r, stored } = await fetch('delete-stls', 'stls', false, true);
  t.equal(r.code, 0, 'delete: fetchmail exit 0', { stderr: r.stderr });
  t.same(compareStored(stored, FETCHMAIL_MESSAGES, true).missing, [], 'delete: every message stored');
  t.equal(messageFiles(md), 0, 'delete: the maildrop is empty after QUIT');
  await f.server.waitForLine(/update done user="matrix@example.com" deleted="7" failed="0"/);
});
