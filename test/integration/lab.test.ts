// The lab (scripts/lab, `npm run lab`) in its short form: network namespaces, MariaDB Galera,
// three r2d2 hosts behind HAProxy and nginx, a kill -9 and a database stop under load, and the
// checks. Needs root (network, UTS, PID and mount namespaces): skipped, saying why, where
// namespaces cannot be made.
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { runLab } from '../../scripts/lab/lab';

// Galera's state transfer and three whole r2d2 servers take a while on two busy cores.
t.setTimeout(900_000);

/** Why network namespaces cannot be made here, or undefined when they can (probed before the test is declared). */
function namespacesUnavailable(): string | undefined {
  const probe = `r2lab-probe-${process.pid}`;
  const made = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (made.error !== undefined) return made.error.message;
  if (made.status !== 0) return made.stderr.trim() || `ip netns add exited ${made.status ?? '?'}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return undefined;
}

const why = namespacesUnavailable();
const skip = why === undefined ? {} : { skip: `network namespaces cannot be made here (the lab needs root): ${why}` };

t.test('the lab, short form: kill -9 of a host and a database stop under load', skip, async (t) => {
  const report = await runLab({ short: true }, (line) => t.comment(line));
  t.comment(report.text);
  for (const check of report.checks) t.ok(check.ok, check.name, { diagnostic: !check.ok, lines: check.lines });
  t.ok(report.checks.length >= 9, 'every check ran');
});
