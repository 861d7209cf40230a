// control_socket in c11n (and as the CLI reads it alone), the control protocol's requests, and
// a log reopened at SIGHUP.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlSocketPath } from '../../src/config/control-socket';
import { parseConfigText } from '../../src/config/load';
import { readControlSocket } from '../../src/config/read-control-socket';
import type { LogConfig } from '../../src/config/types';
import { openLog } from '../../src/log/logger';
import { parseRequest } from '../../src/server/control-protocol';
import { failure } from '../helpers/c11n';

const MINIMAL = 'listen "pop3" { port = 110 }\nmaildrop_query_format_string = "SELECT 1"\ndatabase "accounts" { }\n';
const parse = (text: string) => parseConfigText(text, '/etc/r2d2', {}, 2, () => '');

t.test('control_socket: a path, none, or by default /run/r2d2/control while that folder exists', async (t) => {
  t.equal(parse(`${MINIMAL}control_socket = /run/r2d2/ctl\n`).controlSocket, '/run/r2d2/ctl');
  t.equal(parse(`${MINIMAL}control_socket = none\n`).controlSocket, undefined);
  t.equal(failure(() => parse(`${MINIMAL}control_socket = run/ctl\n`)), 'c11n:4:18: "control_socket" must be an absolute path or none, got "run/ctl"');
  const runtime = mkdtempSync(join(tmpdir(), 'r2d2-runtime-'));
  t.teardown(() => rmSync(runtime, { recursive: true, force: true }));
  t.equal(controlSocketPath(undefined, runtime), join(runtime, 'control'), 'the folder exists: a socket in it');
  t.equal(controlSocketPath(undefined, join(runtime, 'absent')), undefined, 'no folder: no socket (r2d2 never makes it)');
});

t.test('the CLI reads control_socket alone: the rest unchecked, unset ${ENV} as empty', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'r2d2-ctl-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'c11n'), 'database "a" { password = "${R2D2_UNSET_HERE}" }\nnot_a_key = 1\ncontrol_socket = "${R2D2_RUN:-/run/x}/control"\n');
  t.equal(readControlSocket(dir, {}), '/run/x/control');
  t.equal(readControlSocket(dir, { R2D2_RUN: '/srv' }), '/srv/control');
  writeFileSync(join(dir, 'c11n'), 'control_socket = relative\n');
  t.equal(failure(() => readControlSocket(dir, {})), 'c11n:1:18: "control_socket" must be an absolute path or none, got "relative"');
});

t.test('control requests: who, status, kick by user or peer; anything else is refused', async (t) => {
  t.same(parseRequest('{"command":"who"}'), { command: 'who' });
  t.same(parseRequest('{"command":"status","extra":1}'), { command: 'status' });
  t.same(parseRequest('{"command":"kick","user":"alice"}'), { command: 'kick', user: 'alice' });
  t.same(parseRequest('{"command":"kick","peer":"192.0.2.7"}'), { command: 'kick', peer: '192.0.2.7' });
  t.same(parseRequest('{"command":"kick","user":"a","peer":"b"}'), { error: 'kick needs either user or peer' });
  t.same(parseRequest('{"command":"kick","user":""}'), { error: 'kick needs either user or peer' });
  t.same(parseRequest('{"command":"kick","user":7}'), { error: 'kick needs either user or peer' });
  t.same(parseRequest('{"command":"reboot"}'), { error: 'unknown command "reboot"' });
  t.same(parseRequest('[]'), { error: 'unknown command undefined' });
  t.same(parseRequest('null'), { error: 'not a JSON object' });
  t.same(parseRequest('who'), { error: 'not JSON' });
});

t.test('a reopened log: the new level reaches loggers made before it (sessions already running)', async (t) => {
  const lines: string[] = [];
  const log: LogConfig = { destination: 'stdout', level: 'info', format: 'rfc3164', facility: 'mail', syslogSocket: '/dev/log', udpAddress: undefined };
  const handle = openLog({ identity: 'r2d2', log, pid: 1, sink: (line) => lines.push(line), reportIntervalMs: 0 });
  const session = handle.log.child({ session: 7 });
  session.debug('hidden');
  handle.reopen('r2d2', { ...log, level: 'debug' });
  session.debug('shown');
  handle.reopen('r2d2', { ...log, level: 'warn' });
  session.info('hidden too');
  session.warn('a warning');
  t.same(lines, ['r2d2[1]: [7] shown', 'r2d2[1]: [7] a warning']);
  await handle.close();
});

t.test('control_socket: a path too long for a unix socket is a c11n error', async (t) => {
  const long = '/run/' + 'x'.repeat(110);
  t.equal(failure(() => parse(`${MINIMAL}control_socket = ${long}\n`)), 'c11n:4:18: "control_socket" is 115 octets long; a unix socket path holds at most 107');
});
