// `npm run package:deb`: the package is built, installed with apt-get, configured, run as its
// service user on a test port (not as a system service: no systemd here), and purged.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { MARIADB } from '../helpers/mariadb';
import { putMessage, sampleMessage } from '../helpers/maildir';
import { Pop3Client } from '../helpers/pop3-client';
import { freePort } from '../helpers/ports';
import { run } from '../helpers/run';
import { SpawnedServer } from '../helpers/spawned-server';
import { databaseAndMail, tempDir } from '../helpers/test-resources';

const ROOT = join(__dirname, '../../..');
const { NODE_OPTIONS: _ignored, ...ENV } = process.env;
const APT = { ...ENV, DEBIAN_FRONTEND: 'noninteractive' };
const APT_OPTIONS = ['-y', '-qq', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=600'];
const AS_R2D2 = ['setpriv', '--reuid=r2d2', '--regid=r2d2', '--init-groups'];

const has = (command: string): boolean => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
const installed = (): boolean => spawnSync('dpkg-query', ['-W', '-f=${Status}', 'r2d2']).stdout?.toString().includes('ok installed') === true;
const userExists = (): boolean => spawnSync('getent', ['passwd', 'r2d2']).status === 0;

function skipReason(): string | false {
  if (process.getuid?.() !== 0) return 'installing a package needs root';
  if (!has('dpkg-deb') || !has('apt-get') || !has('setpriv')) return 'dpkg-deb, apt-get or setpriv missing';
  if (installed()) return 'an r2d2 package is installed on this machine already: left alone';
  const node = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'nodejs']).stdout?.toString() ?? '';
  if (!node.startsWith('20.')) return `the package needs the nodejs 20 .deb (NodeSource's); installed: ${node || 'none'}`;
  return false;
}

t.setTimeout(600_000);

t.test('the Debian package builds, installs, serves as its own user, and purges clean', { skip: skipReason() }, async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'r2d2-deb-'));
  const userBefore = userExists();
  t.teardown(async () => {
    if (installed()) await run('apt-get', ['purge', ...APT_OPTIONS, 'r2d2'], { env: APT, timeoutMs: 600_000 });
    // The purge keeps the user (policy); the test made it, so the test removes it.
    if (!userBefore && userExists()) await run('deluser', ['--system', '--quiet', 'r2d2']);
    if (!userBefore) await run('delgroup', ['--system', '--quiet', 'r2d2']);
    rmSync(out, { recursive: true, force: true });
  });

  // Built from this checkout's compiled code (the suite compiled it just now).
  const build = await run('bash', [join(ROOT, 'scripts/package-deb.sh'), '--out', out, '--prebuilt'], { env: ENV, timeoutMs: 300_000 });
  t.equal(build.code, 0, build.stderr);
  const deb = build.stdout.toString().trim();
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const arch = spawnSync('dpkg', ['--print-architecture']).stdout.toString().trim();
  t.equal(basename(deb), `r2d2_${version}_${arch}.deb`);
  const field = async (name: string): Promise<string> => (await run('dpkg-deb', ['-f', deb, name])).stdout.toString().trim();
  t.match(await field('Depends'), /^nodejs \(>= 20\), nodejs \(<< 21\), adduser, libc6 \(>= [\d.]+\)$/);
  const contents = (await run('dpkg-deb', ['-c', deb])).stdout.toString();
  for (const path of ['./usr/lib/r2d2/dist/src/cli/main.js', './usr/lib/r2d2/node_modules/pino/package.json', './usr/lib/r2d2/node_modules/better-sqlite3/build/Release/better_sqlite3.node', './lib/systemd/system/r2d2.service', './var/lib/r2d2/']) {
    t.match(contents, ` ${path}`, `ships ${path}`);
  }
  t.notMatch(contents, /node_modules\/(tap|typescript|fast-check)\//, 'no development module');
  t.notMatch(contents, /dist\/(test|bench)\//, 'no test or bench code');

  const install = await run('apt-get', ['install', ...APT_OPTIONS, deb], { env: APT, timeoutMs: 600_000 });
  t.equal(install.code, 0, install.stderr);
  t.ok(installed());
  const files = (await run('dpkg', ['-L', 'r2d2'])).stdout.toString().trim().split('\n');
  const conffiles = readFileSync('/var/lib/dpkg/info/r2d2.conffiles', 'utf8').trim().split('\n');
  // c11n and every module the checkout ships (personality/modules/*.c11n) are the operator's.
  const modules = readdirSync(join(ROOT, 'personality/modules')).filter((f) => f.endsWith('.c11n'));
  t.same(conffiles.sort(), ['/etc/r2d2/personality/c11n', ...modules.map((m) => `/etc/r2d2/personality/modules/${m}`)].sort());
  const passwd = spawnSync('getent', ['passwd', 'r2d2']).stdout.toString().trim().split(':');
  t.equal(passwd[5], '/var/lib/r2d2', 'the r2d2 user, at home in /var/lib/r2d2');
  t.equal(passwd[6], '/usr/sbin/nologin');
  const uid = Number(passwd[2]);
  const gid = Number(passwd[3]);
  t.ok(uid > 0 && uid < 1000, `a system user (uid ${uid})`);
  t.match(statSync('/var/lib/r2d2'), { uid, gid, mode: 0o40750 });
  t.match(statSync('/etc/r2d2/personality/c11n'), { uid: 0, gid, mode: 0o100640 }, 'c11n readable by root and r2d2 only');
  const unit = readFileSync('/lib/systemd/system/r2d2.service', 'utf8');
  t.match(unit, /^User=r2d2$/m);
  t.match(unit, /^ExecStart=\/usr\/bin\/r2d2 serve$/m);
  t.notOk(existsSync('/etc/systemd/system/multi-user.target.wants/r2d2.service'), 'not enabled');
  if (has('systemd-analyze')) {
    const verify = await run('systemd-analyze', ['verify', '/lib/systemd/system/r2d2.service']);
    t.equal(verify.code, 0, verify.stderr);
  }
  t.equal((await run('/usr/bin/r2d2', ['--version'], { env: ENV })).stdout.toString(), `${version}\n`);

  // An installed-style personality: the package's c11n with this test's port, database and maildirs.
  const { db, mail } = await databaseAndMail(t);
  const runDir = tempDir(t, 'r2d2-run-');
  const md = mail.maildir('kim');
  putMessage(md, sampleMessage(1));
  putMessage(md, sampleMessage(2));
  await db.addUser('kim', 'pw', md);
  chownTree(mail.path, uid, gid);
  chownSync(runDir, uid, gid);
  const port = await freePort();
  const c11n = readFileSync('/etc/r2d2/personality/c11n', 'utf8')
    .replace(/port = 110\b/, `port = ${port}`)
    .replace(/address = 0\.0\.0\.0/, 'address = 127.0.0.1')
    .replace(/^  database = mail$/m, `  database = ${db.name}`)
    .replace(/^maildir_root = .*$/m, `maildir_root = ${mail.path}`)
    .replace(/^(limits \{)$/m, `control_socket = ${join(runDir, 'control')}\n$1`);
  const dir = tempDir(t, 'r2d2-personality-');
  mkdirSync(join(dir, 'modules'));
  for (const module of readdirSync('/etc/r2d2/personality/modules')) writeFileSync(join(dir, 'modules', module), readFileSync(join('/etc/r2d2/personality/modules', module)));
  writeFileSync(join(dir, 'c11n'), c11n);
  chownTree(dir, 0, gid);
  chmodSync(dir, 0o750);
  const dbEnv = { R2D2_DB_HOST: MARIADB.host, R2D2_DB_USER: MARIADB.user, R2D2_DB_PASSWORD: MARIADB.password };
  const check = await run(AS_R2D2[0] ?? 'setpriv', [...AS_R2D2.slice(1), '/usr/bin/r2d2', 'check-config', '-p', dir], { env: { ...ENV, ...dbEnv } });
  t.equal(check.code, 0, check.stderr);
  t.equal(check.stdout.toString(), `${dir}/c11n: ok (1 listener(s), database "accounts")\n`);

  // As the unit runs it: the user r2d2, sessions as r2d2 too (no uid in the package's c11n).
  const server = await SpawnedServer.start(t, c11n, dbEnv, { wrap: ['env', '-u', 'NODE_OPTIONS', ...AS_R2D2], program: '/usr/bin/r2d2' });
  t.equal(server.port(), port);
  const { client } = await Pop3Client.greeted(port);
  t.teardown(() => client.destroy());
  t.ok((await client.login('kim', 'pw')).ok);
  t.ok((await client.cmd('RETR 1')).ok);
  t.ok((await client.cmd('DELE 1')).ok);
  const who = await run('/usr/bin/r2d2', ['who', '-p', server.dir], { env: ENV });
  t.match(who.stdout.toString(), /\bkim +127\.0\.0\.1 +pop3 /, `r2d2 who: ${who.stderr}`);
  t.same(await client.cmd('QUIT'), { ok: true, text: 'r2d2 signing off (1 message deleted)' });
  server.child.kill('SIGTERM');
  t.equal(await server.exited, 0);

  const purge = await run('apt-get', ['purge', ...APT_OPTIONS, 'r2d2'], { env: APT, timeoutMs: 600_000 });
  t.equal(purge.code, 0, purge.stderr);
  t.notOk(installed(), 'purged');
  t.equal(spawnSync('dpkg-query', ['-W', 'r2d2']).status, 1, 'dpkg knows nothing of it (no config-files state)');
  for (const path of ['/usr/bin/r2d2', '/usr/lib/r2d2', '/etc/r2d2', '/var/lib/r2d2', '/lib/systemd/system/r2d2.service']) t.notOk(existsSync(path), `${path} is gone`);
  const left = files.filter((path) => path !== '/.' && existsSync(path) && spawnSync('dpkg-query', ['-S', path]).status !== 0);
  t.same(left, [], 'every file the package had is gone, but for folders other packages own');
  t.ok(userExists(), 'the user r2d2 stays after purge, as Debian policy says (files may still be its own)');
});

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  for (const entry of readdirSync(path, { withFileTypes: true, recursive: true })) chownSync(join(entry.parentPath, entry.name), uid, gid);
}
