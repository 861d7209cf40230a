// destination = stdout from worker threads: into a file, each thread writes its lines itself (no
// thread crossing); into a pipe, through the main thread a turn at a time. Whole lines, none lost,
// in the exact format.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileTransport } from '../../src/log/file-transport';

const LOGGER = join(__dirname, '../../src/log/logger.js');

const CHILD = `
const { Worker } = require('node:worker_threads');
const body = ${JSON.stringify(`
  const { openLog } = require(${JSON.stringify(LOGGER)});
  const { workerData } = require('node:worker_threads');
  const log = { destination: 'stdout', level: 'info', format: 'rfc3164', facility: 'mail', syslogSocket: '/dev/log', udpAddress: undefined };
  const handle = openLog({ identity: 'server.pop3.r2d2', log, pid: 7, reportIntervalMs: 0 });
  const kind = handle.transport.constructor.name;
  for (let i = 0; i < 500; i++) handle.log.child({ session: workerData * 1000 + i }).info({ user: 'u"' + i, kind }, 'login ok');
  handle.close();
`)};
// No process.exit: the main thread's writes to a pipe are asynchronous and would be cut short.
for (const n of [1, 2]) new Worker(body, { eval: true, workerData: n });
`;

t.test('worker threads write a stdout file themselves, line by line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'r2d2-log-worker-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'out.log');
  const out = openSync(file, 'a');
  const child = spawn(process.execPath, ['-e', CHILD], { stdio: ['ignore', out, 'inherit'] });
  closeSync(out);
  t.equal(await new Promise<number | null>((resolve) => child.once('exit', resolve)), 0);
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  t.equal(lines.length, 1000, 'every line, whole');
  t.equal(lines.filter((l) => /^server\.pop3\.r2d2\[7\]: \[\d+\] login ok user="u\\"\d+" kind="FileTransport"$/.test(l)).length, 1000, 'the exact format, written by FileTransport');
  for (const n of [1, 2]) t.ok(lines.includes(`server.pop3.r2d2[7]: [${n * 1000 + 499}] login ok user="u\\"499" kind="FileTransport"`), `thread ${n}'s last line`);
});

t.test("worker threads logging to a pipe: a turn's lines go to the main thread together, all of them, in order", async (t) => {
  const child = spawn(process.execPath, ['-e', CHILD], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  t.equal(await new Promise<number | null>((resolve) => child.once('close', resolve)), 0);
  const lines = out.split('\n').filter((l) => l !== '');
  t.equal(lines.length, 1000, 'every line, whole');
  t.equal(lines.filter((l) => /^server\.pop3\.r2d2\[7\]: \[\d+\] login ok user="u\\"\d+" kind="StreamTransport"$/.test(l)).length, 1000, 'the exact format');
  for (const n of [1, 2]) {
    const sessions = lines.map((l) => Number(/\[(\d+)\] login/.exec(l)?.[1])).filter((s) => Math.floor(s / 1000) === n);
    t.same(sessions, [...sessions].sort((a, b) => a - b), `thread ${n}'s lines in order`);
  }
});

const CRASH = `
const { Worker } = require('node:worker_threads');
const body = ${JSON.stringify(`
  const { openLog } = require(${JSON.stringify(LOGGER)});
  const log = { destination: 'stdout', level: 'info', format: 'rfc3164', facility: 'mail', syslogSocket: '/dev/log', udpAddress: undefined };
  const handle = openLog({ identity: 'r2d2', log, pid: 7, reportIntervalMs: 0 });
  setTimeout(() => { handle.log.error('last words'); throw new Error('boom'); }, 5);
`)};
new Worker(body, { eval: true }).on('error', () => undefined);
`;

t.test('a worker thread that dies writes the lines of its last turn (file and pipe)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'r2d2-log-crash-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'out.log');
  const out = openSync(file, 'a');
  const child = spawn(process.execPath, ['-e', CRASH], { stdio: ['ignore', out, 'inherit'] });
  closeSync(out);
  await new Promise((resolve) => child.once('exit', resolve));
  t.equal(readFileSync(file, 'utf8'), 'r2d2[7]: last words\n', 'file');
  const piped = spawn(process.execPath, ['-e', CRASH], { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  piped.stdout.on('data', (d: Buffer) => (text += d.toString()));
  await new Promise((resolve) => piped.once('close', resolve));
  t.equal(text, 'r2d2[7]: last words\n', 'pipe');
});

t.test("FileTransport: a turn's lines in one write; what cannot be written is counted", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'r2d2-log-file-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'x.log');
  writeFileSync(file, '');
  const fd = openSync(file, 'a');
  const transport = new FileTransport('tag[1]: ', fd, 'stdout');
  transport.send('[1] one \u00e9', 30);
  transport.send('[2] two', 30);
  t.equal(readFileSync(file, 'utf8'), '', 'held until the turn ends');
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(readFileSync(file, 'utf8'), 'tag[1]: [1] one \u00e9\ntag[1]: [2] two\n');
  transport.send('[3] three', 30);
  await transport.close();
  closeSync(fd);
  t.equal(readFileSync(file, 'utf8'), 'tag[1]: [1] one \u00e9\ntag[1]: [2] two\ntag[1]: [3] three\n', 'close() writes what is held');
  t.equal(transport.losses.total, 0);
  transport.send('[4] four', 30);
  t.equal(transport.losses.total, 1, 'after close: lost');
  const bad = new FileTransport('tag[1]: ', 1_000_000, 'stdout');
  bad.send('[5] five', 30);
  bad.send('[6] six', 30);
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(bad.losses.total, 2, 'a bad fd: the lines are lost and counted');
});
