// The supervisor reads certificates and keys (as root) and hands their contents to the engine:
// sessions running as nobody serve TLS with a key only root may read; a key the supervisor
// itself cannot read stops check-config and serve, naming the file.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { makeCertificates } from '../helpers/certificates';
import { LineSocket } from '../helpers/line-socket';
import { MAILBOX_QUERY } from '../helpers/mariadb';
import { putMessage, sampleMessage } from '../helpers/maildir';
import { SpawnedServer, spawnedConfig } from '../helpers/spawned-server';
import { spawnedTlsParts } from '../helpers/tls-fixture';

const R2D2 = join(__dirname, '../../../bin/r2d2');
const NOBODY = 65534;

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

t.test('sessions as nobody serve implicit TLS with a root-only private key', async (t) => {
  const { db, mail, certs } = await spawnedTlsParts(t);
  chmodSync(certs.key, 0o600);
  const key = statSync(certs.key);
  t.equal(key.uid, 0, 'the key belongs to root');
  t.equal(key.mode & 0o077, 0, 'and only root may read it');
  chownSync(mail.path, NOBODY, NOBODY);
  const md = mail.maildir('nob');
  for (const sub of ['', 'new', 'cur', 'tmp']) chownSync(join(md, sub), NOBODY, NOBODY);
  chownSync(join(md, 'new', putMessage(md, sampleMessage(1))), NOBODY, NOBODY);
  await db.addUser('nob', 'pw', md);
  const pop3s = `listen "pop3s" { address = "127.0.0.1"  port = 0  tls = implicit  certificate = "${certs.cert}"  private_key = "${certs.key}" }`;
  const server = await SpawnedServer.start(t, spawnedConfig(db.name, mail.path, `uid = nobody\ngid = ${NOBODY}\n${pop3s}`));
  t.match(readFileSync(`/proc/${server.enginePid()}/status`, 'utf8'), /\nUid:\t65534\t/, 'the engine runs as nobody');

  const wire = await within(LineSocket.connect(server.port('pop3s'), { ca: readFileSync(certs.ca) }), 10_000, 'TLS handshake');
  t.teardown(() => wire.socket.destroy());
  const line = async (): Promise<string> => (await wire.readLine(10_000))?.toString('latin1') ?? '(closed)';
  t.match(await line(), /^\+OK r2d2\b.*ready/);
  wire.send('USER nob\r\nPASS pw\r\n');
  t.equal(await line(), '+OK send PASS');
  t.match(await line(), /^\+OK nob has 1 message/);
  wire.send('QUIT\r\n');
  t.match(await line(), /^\+OK r2d2 signing off/);
  t.equal(server.count(/engine exited/), 0, 'no engine restarts');
});

function runAs(uid: number, args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    // A bare environment: nothing of tap's (its process hooks write where nobody may not).
    const child = spawn(process.execPath, [R2D2, ...args], { uid, gid: uid, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' }, timeout: 30_000 });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

t.test('a key or ticket key file the supervisor cannot read: check-config and serve exit 2 naming it', async (t) => {
  const certs = makeCertificates();
  t.teardown(() => certs.remove());
  chmodSync(certs.dir, 0o755);
  chmodSync(certs.cert, 0o644);
  chmodSync(certs.key, 0o600); // root's: nobody cannot read it
  const c11n = (extra: string): string =>
    `uid = nobody\nmaildrop_query_format_string = "${MAILBOX_QUERY}"
listen "pop3s" { address = "127.0.0.1"  port = 0  tls = implicit  certificate = "${certs.cert}"  private_key = "${certs.key}" }
database "accounts" { driver = sqlite  file = "${join(certs.dir, 'accounts.sqlite')}" }
${extra}`;
  writeFileSync(join(certs.dir, 'c11n'), c11n(''), { mode: 0o644 });
  for (const command of ['check-config', 'serve']) {
    const r = await runAs(NOBODY, [command, '-p', certs.dir]);
    t.equal(r.code, 2, `${command}: exit 2`);
    t.match(r.stderr, `private key ${certs.key} cannot be read: EACCES`, `${command}: the file is named`);
  }
  const ticketKeys = join(certs.dir, 'tickets.key');
  writeFileSync(ticketKeys, 'too short\n');
  writeFileSync(join(certs.dir, 'c11n'), c11n(`session_ticket_key_file = "${ticketKeys}"`), { mode: 0o644 });
  const { run } = await import('../helpers/run');
  const short = await run(R2D2, ['check-config', '-p', certs.dir]);
  t.equal(short.code, 2);
  t.match(short.stderr, `session ticket key file ${ticketKeys} must hold 48 random octets`);
  writeFileSync(ticketKeys, randomBytes(48));
  chmodSync(ticketKeys, 0o600);
  chmodSync(certs.key, 0o644); // now only the ticket key file is root's alone
  const unreadable = await runAs(NOBODY, ['check-config', '-p', certs.dir]);
  t.equal(unreadable.code, 2);
  t.match(unreadable.stderr, `session ticket key file ${ticketKeys} cannot be read: EACCES`);
});
