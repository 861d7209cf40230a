import t from 'tap';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { makeCertificates } from '../helpers/certificates';
import { run } from '../helpers/run';
import { sha256 } from '../helpers/mariadb';

const R2D2 = join(__dirname, '../../../bin/r2d2');

function personality(dir: string, certs: { cert: string; key: string }): void {
  mkdirSync(join(dir, 'mail', 'u', 'new'), { recursive: true });
  mkdirSync(join(dir, 'mail', 'u', 'cur'));
  mkdirSync(join(dir, 'mail', 'u', 'tmp'));
  copyFileSync(certs.cert, join(dir, 'server.pem'));
  copyFileSync(certs.key, join(dir, 'server.key'));
  const db = new Database(join(dir, 'accounts.sqlite'));
  db.exec('CREATE TABLE accounts (login TEXT, password TEXT, maildir TEXT)');
  db.prepare('INSERT INTO accounts VALUES (?, ?, ?)').run('u', sha256('pw'), join(dir, 'mail', 'u'));
  db.close();
  writeFileSync(
    join(dir, 'c11n'),
    `executes_as_root = yes
threads = 2
maildrop_query_format_string = "SELECT maildir FROM accounts WHERE login = %u AND password = SHA2(%p, 256)"
listen "pop3s" { address = "127.0.0.1"  port = 0  tls = implicit  certificate = server.pem  private_key = server.key }
database "accounts" { driver = sqlite  file = accounts.sqlite }
`,
  );
}

function handshake(port: number, ca: string): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ port, host: '127.0.0.1', ca: readFileSync(ca), rejectUnauthorized: false });
    s.once('secureConnect', () => resolve(s));
    s.once('error', reject);
  });
}

function nextLine(socket: TLSSocket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', function onData(d: Buffer) {
      text += d.toString();
      if (text.endsWith('\r\n')) {
        socket.off('data', onData);
        resolve(text);
      }
    });
  });
}

t.test('check-config refuses a key that does not match its certificate', async (t) => {
  const certs = makeCertificates();
  const dir = mkdtempSync(join(tmpdir(), 'r2d2-tlscfg-'));
  t.teardown(() => {
    certs.remove();
    rmSync(dir, { recursive: true, force: true });
  });
  personality(dir, { cert: certs.cert, key: certs.strayKey });
  const r = await run(R2D2, ['check-config', '-p', dir]);
  t.equal(r.code, 2);
  t.match(r.stderr, /private key .*server\.key does not match certificate .*server\.pem/);
  const serve = await run(R2D2, ['serve', '-p', dir]);
  t.equal(serve.code, 2, 'serve does not start either');
});

t.test('SIGHUP re-reads the certificate without dropping sessions; a broken one is refused', async (t) => {
  const certs = makeCertificates();
  const dir = mkdtempSync(join(tmpdir(), 'r2d2-tlshup-'));
  personality(dir, certs);
  const child = spawn(R2D2, ['serve', '-p', dir]);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  t.teardown(() => {
    child.kill('SIGKILL');
    certs.remove();
    rmSync(dir, { recursive: true, force: true });
  });
  const waitFor = async (pattern: RegExp): Promise<RegExpExecArray> => {
    for (let i = 0; i < 300; i++) {
      const m = pattern.exec(out);
      if (m) return m;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`not seen: ${pattern}\n${out}`);
  };
  const port = Number((await waitFor(/listening on 127\.0\.0\.1:(\d+)/))[1]);

  const before = await handshake(port, certs.ca);
  t.equal(before.getPeerCertificate().subject.CN, 'localhost');
  t.match(await nextLine(before), /^\+OK r2d2/);
  before.write('USER u\r\n');
  t.match(await nextLine(before), /^\+OK/);

  copyFileSync(certs.otherCert, join(dir, 'server.pem'));
  copyFileSync(certs.otherKey, join(dir, 'server.key'));
  child.kill('SIGHUP');
  await waitFor(/tls certificates reloaded/);
  const after = await handshake(port, certs.ca);
  t.equal(after.getPeerCertificate().subject.CN, 'other.test', 'new connections get the new certificate');
  after.destroy();

  before.write('PASS pw\r\n');
  t.match(await nextLine(before), /^\+OK u has 0 messages/, 'the session from before the reload goes on');

  copyFileSync(certs.strayKey, join(dir, 'server.key'));
  child.kill('SIGHUP');
  await waitFor(/tls reload refused: keeping the old certificates .*does not match/);
  const still = await handshake(port, certs.ca);
  t.equal(still.getPeerCertificate().subject.CN, 'other.test', 'the last good certificate stays in use');
  still.destroy();
  before.write('QUIT\r\n');
  t.match(await nextLine(before), /^\+OK r2d2 signing off/);
});

t.test('the shipped TLS module (personality/modules/tls.c11n) loads and its certificates are checked', async (t) => {
  const certs = makeCertificates();
  const dir = mkdtempSync(join(tmpdir(), 'r2d2-tlsmod-'));
  t.teardown(() => {
    certs.remove();
    rmSync(dir, { recursive: true, force: true });
  });
  mkdirSync(join(dir, 'modules'));
  copyFileSync(join(__dirname, '../../../personality/modules/tls.c11n'), join(dir, 'modules/tls.c11n'));
  const shipped = readFileSync(join(__dirname, '../../../personality/c11n'), 'utf8');
  writeFileSync(join(dir, 'c11n'), shipped.replace(/listen "pop3" \{[^}]*\}/, '').replace('# include("modules/tls.c11n")', 'include("modules/tls.c11n")'));
  const env = { ...process.env, R2D2_DB_PASSWORD: 'x', R2D2_TLS_CERT: certs.cert, R2D2_TLS_KEY: certs.key };
  const good = await run(R2D2, ['check-config', '-p', dir], { env });
  t.equal(good.code, 0, good.stderr);
  t.match(good.stdout.toString(), /2 listener\(s\)/);
  const bad = await run(R2D2, ['check-config', '-p', dir], { env: { ...env, R2D2_TLS_KEY: certs.strayKey } });
  t.equal(bad.code, 2);
  t.match(bad.stderr, /does not match certificate/);
});
