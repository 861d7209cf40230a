import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../helpers/run';
import { freePort } from '../helpers/ports';

const R2D2 = join(__dirname, '../../../bin/r2d2');

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'r2d2-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}


t.test('--version and --help', async (t) => {
  const v = await run(R2D2, ['--version']);
  t.equal(v.code, 0);
  t.match(v.stdout.toString(), /^\d+\.\d+\.\d+\n$/);
  const h = await run(R2D2, ['--help']);
  t.match(h.stdout.toString(), /serve/);
  t.match(h.stdout.toString(), /check-config/);
});

t.test('check-config reports c11n:LINE:COL and exits non-zero; serve refuses the same config', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'c11n'), 'maildrop_query_format_string = "SELECT 1"\nlisten "p" { port = 110 }\ndatabase "a" { }\nlimits {\n  max_bad_comands = 3\n}\n');
  const check = await run(R2D2, ['check-config', '-p', dir]);
  t.not(check.code, 0);
  t.match(check.stderr, /^c11n:5:3: unknown key "max_bad_comands"/);
  const serve = await run(R2D2, ['serve', '-p', dir]);
  t.not(serve.code, 0);
  t.match(serve.stderr, /^c11n:5:3: /);
  const env = await run(R2D2, ['check-config'], { env: { ...process.env, SERVER_PERSONALITY_PATH: dir } });
  t.match(env.stderr, /^c11n:5:3: /, 'SERVER_PERSONALITY_PATH is honoured');
});

t.test('check-config accepts the shipped personality', async (t) => {
  const r = await run(R2D2, ['check-config', '-p', join(__dirname, '../../../personality')], {
    env: { ...process.env, R2D2_DB_PASSWORD: 'x' },
  });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout.toString(), /c11n: ok/);
});

t.test('serve --demo: the embedded default works with curl, and SIGTERM stops it cleanly', async (t) => {
  const dir = tempDir(t);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const child = spawn(R2D2, ['serve', '--demo'], { env: { ...process.env, R2D2_DEMO_DIR: dir, R2D2_DEMO_PORT: String(port) } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  const deadline = Date.now() + 15000;
  while (!out.includes('Try: curl') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.match(out, new RegExp(`curl pop3://demo:demo@127.0.0.1:${port}/1`));
  const r = await run('curl', ['-s', '-S', `pop3://demo:demo@127.0.0.1:${port}/1`]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout.toString(), /Subject: Welcome to r2d2\r\n/);
  child.kill('SIGTERM');
  t.equal(await exited, 0);
  t.match(out, /server\.pop3\.r2d2\[\d+\]: \[1\] disconnected: peer quit, sequence="carq" delays="0"/, 'curl sent CAPA, AUTH PLAIN, RETR, QUIT');
});
