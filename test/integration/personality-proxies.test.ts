// The example proxy configs in personality/ are valid for the Debian programs they are for:
// HAProxy's `-c` on personality/haproxy/haproxy.cfg and nginx's `-t` on
// personality/nginx/r2d2-mail.conf (with a test certificate in place of the examples' paths).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { makeCertificates } from '../helpers/certificates';
import { NGINX } from '../helpers/nginx';
import { freePort } from '../helpers/ports';
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

t.test('personality/nginx/r2d2-mail.conf passes nginx -t', async (t) => {
  const certs = makeCertificates();
  const dir = mkdtempSync(join(tmpdir(), 'r2d2-nginx-example-'));
  t.teardown(() => {
    certs.remove();
    rmSync(dir, { recursive: true, force: true });
  });
  const example = readFileSync(join(ROOT, 'personality/nginx/r2d2-mail.conf'), 'utf8');
  t.match(example, /^\s*proxy_protocol on;/m, 'the example sends the PROXY header to the backends');
  // Free ports in place of 110 and 995, the test certificate in place of the example's.
  const mail = example
    .replace('# load_module', 'load_module')
    .replace('listen 110;', `listen 127.0.0.1:${await freePort()};`)
    .replace('listen 995 ssl;', `listen 127.0.0.1:${await freePort()} ssl;`)
    .replace('/etc/nginx/tls/pop.example.org.pem', certs.cert)
    .replace('/etc/nginx/tls/pop.example.org.key', certs.key);
  writeFileSync(join(dir, 'nginx.conf'), `${mail.replace(/^(load_module .*)$/m, '$1\nevents { }\nerror_log $DIR/error.log;').replaceAll('$DIR', dir)}\n`);
  const checked = await run(NGINX, ['-t', '-c', join(dir, 'nginx.conf'), '-p', `${dir}/`, '-g', `pid ${join(dir, 'nginx.pid')};`]);
  t.equal(checked.code, 0, `nginx -t: ${checked.stderr}`);
});
