// getmail6 against r2d2, plain (SimplePOP3Retriever) and implicit TLS (SimplePOP3SSLRetriever;
// getmail's POP3 retrievers have no STLS), into a Maildir: keep mode (read_all = false: a
// second run fetches nothing, by UIDL), then delete mode (read_all = true). getmail stores LF
// line ends and prepends Delivered-To, Return-Path and Received: compared after CRLF -> LF with
// prepended trace headers removed (see compareStored).
import t from 'tap';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareStored, matrixServer, MESSAGES, messageFiles, PASSWORD, populate, storedInMaildir, USER } from '../helpers/client-matrix';
import { run } from '../helpers/run';

type GetmailMode = 'plain' | 'implicit';
const NOBODY = 65534;

t.test('getmail6: plain and implicit TLS into a Maildir; keep, then delete', async (t) => {
  const f = await matrixServer(t);
  const md = await populate(f);
  const home = mkdtempSync(join(tmpdir(), 'r2d2-getmail-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) chmodSync(home, 0o755);
  const retriever: Record<GetmailMode, string> = {
    plain: `type = SimplePOP3Retriever\nserver = 127.0.0.1\nport = ${f.ports.plain}`,
    implicit: `type = SimplePOP3SSLRetriever\nserver = localhost\nport = ${f.ports.implicit}\nca_certs = ${f.certs.ca}\nssl_cert_hostname = localhost`,
  };
  /** Keep mode: read_all = false (getmail remembers UIDLs in its getmail dir); delete: read_all = true. */
  const fetch = async (label: string, mode: GetmailMode, keep: boolean) => {
    const into = join(home, label);
    for (const sub of ['tmp', 'new', 'cur']) mkdirSync(join(into, sub), { recursive: true });
    // getmail refuses to deliver as root: as root, its Maildir destination runs as nobody.
    if (asRoot) for (const dir of [into, ...['tmp', 'new', 'cur'].map((s) => join(into, s))]) chownSync(dir, NOBODY, NOBODY);
    writeFileSync(
      join(home, `rc-${label}`),
      `[retriever]
${retriever[mode]}
username = ${USER}
password = ${PASSWORD}

[destination]
type = Maildir
path = ${into}/
${asRoot ? 'user = nobody' : ''}

[options]
read_all = ${keep ? 'false' : 'true'}
delete = ${keep ? 'false' : 'true'}
message_log_syslog = false
verbose = 0
`,
    );
    const r = await run('getmail', ['--getmaildir', home, '--rcfile', `rc-${label}`], { env: { ...process.env, HOME: home }, timeoutMs: 60000 });
    return { r, stored: storedInMaildir(into) };
  };
  for (const mode of ['plain', 'implicit'] as const) {
    const { r, stored } = await fetch(`keep-${mode}`, mode, true);
    t.equal(r.code, 0, `${mode}: getmail exit 0`, { stderr: r.stderr, stdout: r.stdout.toString() });
    const cmp = compareStored(stored, MESSAGES, true);
    t.same(cmp.missing, [], `${mode}: every message stored byte-exact (after CRLF -> LF)`);
    t.same(cmp.unexpected, [], `${mode}: nothing else stored`);
    t.same(cmp.added, ['delivered-to', 'received', 'return-path'], `${mode}: getmail prepended only its trace headers`);
    t.equal(messageFiles(md), MESSAGES.length, `${mode}: keep: the maildrop is untouched`);
    const again = await fetch(`again-${mode}`, mode, true);
    t.equal(again.r.code, 0, `${mode}: second run`, { stderr: again.r.stderr });
    t.equal(again.stored.length, 0, `${mode}: second run: nothing new (UIDL remembered)`);
  }
  const { r, stored } = await fetch('delete-implicit', 'implicit', false);
  t.equal(r.code, 0, 'delete: getmail exit 0', { stderr: r.stderr });
  const cmp = compareStored(stored, MESSAGES, true);
  t.same([cmp.missing, cmp.unexpected], [[], []], 'delete: every message stored byte-exact');
  t.equal(messageFiles(md), 0, 'delete: the maildrop is empty after QUIT');
  await f.server.waitForLine(/update done user="matrix@example.com" deleted="7" failed="0"/);
});
