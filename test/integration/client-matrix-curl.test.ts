// curl against r2d2, plain / STLS (--ssl-reqd) / implicit (pop3s://): every awkward message
// byte-exact (curl un-stuffs and keeps CRLF, so no normalisation at all), LIST, UIDL, TOP, DELE,
// and a 20 MB message.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bigMessage, matrixServer, MESSAGES, messageFiles, PASSWORD, populate, USER, type Mode } from '../helpers/client-matrix';
import { asServed } from '../helpers/maildir';
import { run } from '../helpers/run';

t.test('curl: plain, STLS and implicit TLS', async (t) => {
  const f = await matrixServer(t);
  const md = await populate(f);
  const out = mkdtempSync(join(tmpdir(), 'r2d2-curl-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const url: Record<Mode, string> = {
    plain: `pop3://127.0.0.1:${f.ports.plain}`,
    stls: `pop3://localhost:${f.ports.stls}`,
    implicit: `pop3s://localhost:${f.ports.implicit}`,
  };
  const tls = ['--cacert', f.certs.ca];
  const flags: Record<Mode, string[]> = { plain: [], stls: [...tls, '--ssl-reqd'], implicit: tls };
  for (const mode of ['plain', 'stls', 'implicit'] as const) {
    const auth = ['-s', '-S', '--user', `${USER}:${PASSWORD}`, ...flags[mode]];
    // One connection: every message to its own file.
    const targets = MESSAGES.flatMap((_, i) => ['-o', join(out, `${mode}-${i + 1}`), `${url[mode]}/${i + 1}`]);
    const r = await run('curl', [...auth, ...targets]);
    t.equal(r.code, 0, `${mode}: curl exit 0`, { stderr: r.stderr });
    MESSAGES.forEach((m, i) => {
      const got = readFileSync(join(out, `${mode}-${i + 1}`));
      t.equal(got.toString('latin1'), asServed(m.bytes).toString('latin1'), `${mode}: ${m.name} byte-exact`);
    });
    const list = await run('curl', [...auth, `${url[mode]}/`]);
    t.same(
      list.stdout.toString().trim().split('\r\n').map((l) => Number(l.split(' ')[1])),
      MESSAGES.map((m) => asServed(m.bytes).length),
      `${mode}: LIST sizes are the octets received`,
    );
    const uidl = await run('curl', [...auth, '-X', 'UIDL', `${url[mode]}/`]);
    const uids = uidl.stdout.toString().trim().split('\r\n');
    t.equal(new Set(uids.map((l) => l.split(' ')[1])).size, MESSAGES.length, `${mode}: UIDL lists unique ids`);
    const top = await run('curl', [...auth, '-X', 'TOP 1 0', `${url[mode]}/`]);
    t.equal(top.stdout.toString('latin1'), 'Message-ID: <dots@matrix.test>\r\nSubject: dots\r\n\r\n', `${mode}: TOP 1 0 is the header and its blank line`);
  }
  const plainAuth = ['-s', '-S', '--user', `${USER}:${PASSWORD}`];
  const refused = await run('curl', [...plainAuth, `pop3://127.0.0.1:${f.ports.stls}/1`]);
  t.not(refused.code, 0, 'no login in the clear on the STLS listener');
  const dele = await run('curl', [...plainAuth, '-X', 'DELE', '-I', `${url.plain}/2`]);
  t.equal(dele.code, 0, 'DELE: curl exit 0', { stderr: dele.stderr });
  t.equal(messageFiles(md), MESSAGES.length - 1, 'DELE then QUIT removed one message');
});

t.test('curl: a 20 MB message, plain and implicit TLS', async (t) => {
  const f = await matrixServer(t);
  const big = bigMessage(20 * 1024 * 1024);
  await populate(f, [{ bytes: big }]);
  const out = mkdtempSync(join(tmpdir(), 'r2d2-curl-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const served = asServed(big);
  const tls = ['--cacert', f.certs.ca];
  for (const [mode, url, extra] of [
    ['plain', `pop3://127.0.0.1:${f.ports.plain}/1`, []],
    ['implicit', `pop3s://localhost:${f.ports.implicit}/1`, tls],
  ] as const) {
    const file = join(out, mode);
    const r = await run('curl', ['-s', '-S', '--user', `${USER}:${PASSWORD}`, ...extra, '-o', file, url], { timeoutMs: 60000 });
    t.equal(r.code, 0, `${mode}: curl exit 0`, { stderr: r.stderr });
    const got = readFileSync(file);
    t.equal(got.length, served.length, `${mode}: ${served.length} octets`);
    t.ok(got.equals(served), `${mode}: byte-exact`);
  }
});
