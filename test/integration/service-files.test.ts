import t from 'tap';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../helpers/run';

const ROOT = join(__dirname, '../../..');

const hasSystemd = spawnSync('sh', ['-c', 'command -v systemd-analyze']).status === 0;

t.test('the systemd unit passes systemd-analyze verify', { skip: hasSystemd ? false : 'systemd-analyze is not installed' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'r2d2-unit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // The unit names /usr/bin/r2d2 (the installed CLI); verify it against this checkout's.
  const unit = readFileSync(join(ROOT, 'personality/r2d2.service'), 'utf8').replaceAll('/usr/bin/r2d2', join(ROOT, 'bin/r2d2'));
  writeFileSync(join(dir, 'r2d2.service'), unit);
  const r = await run('systemd-analyze', ['verify', join(dir, 'r2d2.service')]);
  t.equal(r.code, 0, r.stderr);
  // verify also reads the machine's other units (galera's garb.service warns about User=nobody):
  // only lines about r2d2's unit count.
  const ours = r.stderr.split('\n').filter((line) => line.includes('r2d2.service'));
  t.same(ours, [], 'no warnings about r2d2.service');
  for (const key of ['ProtectSystem=strict', 'NoNewPrivileges=yes', 'AmbientCapabilities=CAP_NET_BIND_SERVICE', 'Restart=on-failure', 'ExecReload=/bin/kill -HUP $MAINPID']) {
    t.ok(unit.includes(key), key);
  }
  // Not root: the service user, with only the right to bind ports below 1024 (issue 12).
  for (const line of ['User=mail', 'Group=mail', 'CapabilityBoundingSet=CAP_NET_BIND_SERVICE', 'RuntimeDirectory=r2d2']) {
    t.match(unit, new RegExp(`^${line}$`, 'm'), line);
  }
  t.notMatch(unit, /^[^#]*CAP_(SETUID|SETGID|DAC_OVERRIDE|CHOWN|FOWNER)/m, 'no capability to change user or bypass permissions');
});

t.test('the daemontools/runit service scripts are executable shell', async (t) => {
  for (const script of ['personality/svsdir/run', 'personality/svsdir/log/run']) {
    const path = join(ROOT, script);
    t.doesNotThrow(() => accessSync(path, constants.X_OK), `${script} is executable`);
    const syntax = await run('sh', ['-n', path]);
    t.equal(syntax.code, 0, `${script}: ${syntax.stderr}`);
  }
});
