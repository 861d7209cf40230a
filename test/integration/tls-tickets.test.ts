// TLS session resumption through a real `r2d2 serve` with two worker threads: every thread
// (and every host given the same session_ticket_key_file) decrypts every other's tickets, and
// a SIGHUP keeps the keys unless the key file changed. openssl s_client -sess_out / -sess_in.
import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CertificateSet } from '../helpers/certificates';
import { TestDatabase } from '../helpers/mariadb';
import { MailRoot } from '../helpers/maildir';
import { SClient } from '../helpers/s-client';
import { SpawnedServer, spawnedConfig } from '../helpers/spawned-server';
import { spawnedTlsParts } from '../helpers/tls-fixture';

const VERSIONS = ['-tls1_2', '-tls1_3'] as const;

const setup = spawnedTlsParts;

function start(t: Test, s: { db: TestDatabase; mail: MailRoot; certs: CertificateSet }, extra = ''): Promise<SpawnedServer> {
  const pop3s = `listen "pop3s" { address = "127.0.0.1"  port = 0  tls = implicit  certificate = "${s.certs.cert}"  private_key = "${s.certs.key}" }`;
  return SpawnedServer.start(t, spawnedConfig(s.db.name, s.mail.path, `${pop3s}\n${extra}`, 2));
}

/** One greeted session; "New" or "Reused" as s_client reports it. */
async function session(t: Test, port: number, ca: string, version: string, sessionFile: { out?: string; in?: string }): Promise<string> {
  const c = new SClient(t, [
    '-connect', `127.0.0.1:${port}`, version, '-CAfile', ca, '-servername', 'localhost', '-crlf',
    ...(sessionFile.out === undefined ? [] : ['-sess_out', sessionFile.out]),
    ...(sessionFile.in === undefined ? [] : ['-sess_in', sessionFile.in]),
  ]);
  await c.waitFor(/^\+OK r2d2\b.*ready/m); // TLS 1.3 tickets come before the greeting
  c.write('QUIT');
  await c.waitFor(/signing off/);
  await c.finish();
  return /^(New|Reused), /m.exec(c.text)?.[1] ?? `no handshake:\n${c.text}`;
}

/** Several resumptions at once, so that both worker threads take some. */
function resumeMany(t: Test, port: number, ca: string, version: string, file: string, n = 10): Promise<string[]> {
  return Promise.all(Array.from({ length: n }, () => session(t, port, ca, version, { in: file })));
}

async function reloaded(server: SpawnedServer, before: number): Promise<void> {
  server.child.kill('SIGHUP');
  await server.waitFor(new RegExp(`(tls certificates reloaded[^\\n]*\\n[\\s\\S]*){${before + 2}}`));
}

t.test('a ticket from one worker thread resumes on either; a SIGHUP keeps the keys', async (t) => {
  const s = await setup(t);
  const server = await start(t, s);
  const port = server.port('pop3s');
  let reloads = 0;
  for (const version of VERSIONS) {
    const file = join(s.certs.dir, `session${version}`);
    t.equal(await session(t, port, s.certs.ca, version, { out: file }), 'New', `${version}: the first session is new`);
    t.same(await resumeMany(t, port, s.certs.ca, version, file), Array(10).fill('Reused'), `${version}: every later one resumes`);
    const protocol = version === '-tls1_2' ? 'TLSv1\\.2' : 'TLSv1\\.3';
    const resumedOn = (worker: number): number => server.count(new RegExp(`connected .*tls="${protocol} \\S+ resumed".*worker="${worker}"`));
    // The kernel picks which worker accepts; on a loaded machine one can take ten in a row: more rounds, at most five.
    for (let round = 1; round < 5 && (resumedOn(0) === 0 || resumedOn(1) === 0); round++) {
      t.same(await resumeMany(t, port, s.certs.ca, version, file), Array(10).fill('Reused'), `${version}: round ${round + 1} resumes too`);
    }
    for (const worker of [0, 1]) {
      t.ok(server.count(new RegExp(`connected .*tls="${protocol} \\S+ resumed".*worker="${worker}"`)) > 0, `${version}: worker ${worker} resumed sessions`);
    }
    await reloaded(server, reloads);
    reloads += 2;
    t.same(await resumeMany(t, port, s.certs.ca, version, file, 4), Array(4).fill('Reused'), `${version}: after SIGHUP too`);
  }
});

t.test('session_ticket_key_file: two servers share tickets; a changed file changes the keys on SIGHUP', async (t) => {
  const s = await setup(t);
  const keyFile = join(s.certs.dir, 'tickets.key');
  writeFileSync(keyFile, randomBytes(48), { mode: 0o600 });
  const extra = `session_ticket_key_file = "${keyFile}"`;
  const [a, b] = await Promise.all([start(t, s, extra), start(t, s, extra)]);
  let reloads = 0;
  for (const version of VERSIONS) {
    const file = join(s.certs.dir, `shared${version}`);
    t.equal(await session(t, a.port('pop3s'), s.certs.ca, version, { out: file }), 'New');
    t.equal(await session(t, b.port('pop3s'), s.certs.ca, version, { in: file }), 'Reused', `${version}: A's ticket resumes on B`);
    await reloaded(b, reloads);
    reloads += 2;
    t.equal(await session(t, b.port('pop3s'), s.certs.ca, version, { in: file }), 'Reused', `${version}: SIGHUP with the same file keeps the keys`);
  }
  writeFileSync(keyFile, randomBytes(48).toString('base64') + '\n');
  await reloaded(b, reloads);
  const file = join(s.certs.dir, 'shared-tls1_3');
  t.equal(await session(t, b.port('pop3s'), s.certs.ca, '-tls1_3', { in: file }), 'New', 'new keys (base64 in the file): the old ticket is refused');
  t.equal(await session(t, a.port('pop3s'), s.certs.ca, '-tls1_3', { in: file }), 'Reused', 'A still has the old keys until its own SIGHUP');
});
