// The example proxy configs in personality/ are valid for the Debian programs they are for:
// HAProxy's `-c` on personality/haproxy/haproxy.cfg (with a real certificate in place of the
// example's path).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { makeCertificates } from '../helpers/certificates';
import { run } from '../helpers/run';

const ROOT = join(__dirname, '../../..');

t.test('personality/haproxy/haproxy.cfg passes haproxy -c', async (t) => {
  const certs = makeCertificates();
  const dir = mkdtempSync(join(tmpdir(), 'r2d2-haproxy-example-'));
  t.teardown(() => {
    certs.remove();
    rmSync(dir, { recursive: true, force: true });
  });
  writeFileSync(join(dir, 'server.pem'), readFileSync(certs.cert, 'utf8') + readFileSync(certs.key, 'utf8'));
  const example = readFileSync(join(ROOT, 'personality/haproxy/haproxy.cfg'), 'utf8');
  t.match(example, /send-proxy-v2 check/, 'the example sends PROXY v2 and checks health');
  const cfg = example.replace('/etc/haproxy/pop.example.org.pem', join(dir, 'server.pem')).replace('/run/haproxy/admin.sock', join(dir, 'admin.sock'));
  writeFileSync(join(dir, 'haproxy.cfg'), cfg);
  const checked = await run('/usr/sbin/haproxy', ['-c', '-f', join(dir, 'haproxy.cfg')]);
  t.equal(checked.code, 0, `haproxy -c: ${checked.stdout.toString()}${checked.stderr}`);
});
