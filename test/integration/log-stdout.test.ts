// destination = stdout behind a reader that stopped reading (a stuck svlogd, a full pipe):
// logging goes on without waiting, what does not fit is dropped and counted, exit does not hang.
import t from 'tap';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const LOGGER = join(__dirname, '../../src/log/logger.js');

// 20,000 lines of ~250 bytes (5 MB) into a pipe nobody reads: far past the 1 MiB buffer.
const CHILD = `
const { openLog } = require(${JSON.stringify(LOGGER)});
const log = { destination: 'stdout', level: 'info', format: 'rfc3164', facility: 'mail', syslogSocket: '/dev/log', udpAddress: undefined };
const handle = openLog({ identity: 'server.pop3.r2d2', log, pid: 1, reportIntervalMs: 0 });
for (let i = 0; i < 20000; i++) handle.log.info({ i, pad: 'x'.repeat(200) }, 'filler');
let ticks = 0;
const timer = setInterval(() => ticks++, 1); // the event loop keeps turning meanwhile
setImmediate(() => {
  clearInterval(timer);
  process.stderr.write(JSON.stringify({ lost: handle.stats().lost, loopTurned: true }) + '\\n');
  process.exit(0);
});
`;

t.test('a stuck stdout reader: lines dropped and counted, the process never waits', async (t) => {
  const child = spawn(process.execPath, ['-e', CHILD], { stdio: ['ignore', 'pipe', 'pipe'] });
  // stdout is never read: the pipe fills after 64 KiB.
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(killer);
  child.stdout.destroy();
  t.equal(code, 0, `the child finished on its own: ${stderr}`);
  const report = JSON.parse(stderr.trim().split('\n').at(-1) ?? '{}') as { lost?: number; loopTurned?: boolean };
  t.equal(report.loopTurned, true);
  t.ok((report.lost ?? 0) > 10000, `most lines dropped and counted (${report.lost})`);
});
