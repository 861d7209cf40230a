// `r2d2 serve` with an lmtp section, as an operator runs it: the supervisor binds the TCP port
// and makes the unix socket (owner, group, mode), the engine's workers deliver. A 50 MB message
// is streamed to disk (the engine's memory stays flat), a client that goes away mid-DATA leaves
// nothing behind, and the socket is removed at stop.
import { readFileSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parseMaildirName } from '../../src/maildrop/name';
import { LmtpClient } from '../helpers/lmtp-client';
import { filesIn, RECIPIENT_QUERY } from '../helpers/lmtp-server';
import { run } from '../helpers/run';
import { SpawnedServer, spawnedConfig } from '../helpers/spawned-server';
import { databaseAndMail } from '../helpers/test-resources';

const MiB = 1024 * 1024;

function groupId(name: string): number {
  const line = readFileSync('/etc/group', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  return Number(line?.split(':')[2]);
}

/** VmRSS and VmHWM (peak) of a process, in octets. */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

/** `lines` lines of 78 characters: a message of lines * 80 octets on the wire. */
function bigMessage(lines: number): Buffer {
  const line = Buffer.from(`${'x'.repeat(78)}\r\n`);
  const body = Buffer.alloc(lines * line.length);
  for (let i = 0; i < lines; i++) line.copy(body, i * line.length);
  return Buffer.concat([Buffer.from('Subject: big\r\n\r\n'), body]);
}

t.test('r2d2 serve: LMTP on a port and a socket', { skip: process.getuid?.() !== 0 ? 'needs root (socket owner)' : false }, async (t) => {
  const { db, mail } = await databaseAndMail(t);
  const alice = join(mail.path, 'alice');
  await db.addUser('alice@example.com', 'pw', alice);
  const socket = join(mail.path, 'lmtp.sock');
  const lmtpSection = `deliver { recipient_query_format_string = "${RECIPIENT_QUERY}" }
lmtp { socket = "${socket}"  socket_group = mail  socket_mode = 0660  port = 0  max_message_size = 200M }
log { destination = stdout  level = info }`;
  const server = await SpawnedServer.start(t, spawnedConfig(db.name, mail.path, lmtpSection, 1));
  const port = Number((await server.waitFor(/lmtp listening on 127\.0\.0\.1:(\d+)/))[1]);

  await t.test('the socket: owner, group and mode as configured; TCP on loopback', async (t) => {
    const st = statSync(socket);
    t.ok(st.isSocket());
    t.equal(st.mode & 0o777, 0o660);
    t.equal(st.uid, 0, 'the supervisor’s user (root here)');
    t.equal(st.gid, groupId('mail'), 'socket_group');
    for (const where of [port, socket]) {
      const { client, greeting } = await LmtpClient.connect(where);
      t.match(greeting.text, / LMTP /, `${typeof where === 'number' ? 'TCP' : 'unix'}: an LMTP greeting, never POP3`);
      await client.lhlo();
      const r = await client.send('s@example.net', ['alice@example.com'], 'Subject: warm-up\n\nx\n');
      t.equal(r.results[0]?.code, 250);
      await client.quit();
    }
  });

  await t.test('swaks, pipelining over the socket: two recipients, a 250 each after DATA', { skip: existsSync('/usr/bin/swaks') ? false : 'swaks is not installed' }, async (t) => {
    const erin = join(mail.path, 'erin');
    await db.addUser('erin@example.com', 'pw', erin);
    const r = await run('/usr/bin/swaks', ['--protocol', 'LMTP', '--socket', socket, '--pipeline', '--from', 's@example.net', '--to', 'alice@example.com,erin@example.com', '--data', 'Subject: swaks\n\nfrom swaks\n']);
    const out = r.stdout.toString();
    t.equal(r.code, 0, out);
    t.equal(out.match(/^<- {2}250 2\.6\.0 <(alice|erin)@example\.com> delivered as /gm)?.length, 2, 'one 250 per recipient');
    t.equal(filesIn(erin).length, 1);
  });

  await t.test('a 150 MB message: streamed to disk, the engine’s memory stays flat', async (t) => {
    const engine = server.enginePid();
    const before = memory(engine);
    // 150 MB rather than the issue's 50: the socket reads' garbage is bounded by when V8 collects
    // (up to some 50 MiB on a loaded machine), not by the message, and only a message well above
    // that bound tells a message held whole from that garbage.
    const lines = (150 * MiB) / 80;
    const message = bigMessage(lines);
    const { client } = await LmtpClient.connect(socket);
    t.teardown(() => client.destroy());
    await client.lhlo();
    const r = await client.send('s@example.net', ['alice@example.com'], message);
    t.equal(r.results[0]?.code, 250, r.results[0]?.text ?? 'no reply');
    const after = memory(engine);
    const sizeOf = (n: string): number => statSync(join(alice, 'new', n)).size;
    const name = filesIn(alice).reduce((a, b) => (sizeOf(a) >= sizeOf(b) ? a : b));
    const headers = 'Return-Path: <s@example.net>\nDelivered-To: alice@example.com\n';
    t.equal(parseMaildirName(name).size, message.length + headers.length + 2, 'Z size = octets received + the two header lines (CRLF)');
    t.equal(sizeOf(name), message.length - (lines + 2) + headers.length, 'stored with LF line ends');
    const growth = after.peak - Math.max(before.rss, 1);
    t.comment(`engine RSS before ${(before.rss / MiB).toFixed(1)} MiB, peak after ${(after.peak / MiB).toFixed(1)} MiB (peak before ${(before.peak / MiB).toFixed(1)} MiB)`);
    // Socket reads leave 64 KB buffers for the garbage collector (seen: 11-33 MiB at the peak, 53
    // on a loaded machine); a message held whole would take its own 150 MiB on top of that.
    t.ok(growth < 100 * MiB, `peak RSS grew ${(growth / MiB).toFixed(1)} MiB for a 150 MiB message (bound: 100 MiB, well under the message)`);
    await client.quit();
  });

  await t.test('a client that goes away mid-DATA leaves nothing in tmp/ or new/', async (t) => {
    const bob = join(mail.path, 'bob');
    await db.addUser('bob@example.com', 'pw', bob);
    const { client } = await LmtpClient.connect(port);
    await client.lhlo();
    t.equal((await client.cmd('MAIL FROM:<s@example.net>')).code, 250);
    t.equal((await client.cmd('RCPT TO:<bob@example.com>')).code, 250);
    t.equal((await client.cmd('DATA')).code, 354);
    client.wire.send(bigMessage(20_000)); // 1.6 MB, no final dot
    client.destroy();
    await server.waitFor(/message not received in full/, 30_000);
    t.same(filesIn(bob, 'tmp'), [], 'tmp/ is empty');
    t.same(filesIn(bob), [], 'new/ is empty');
  });

  await t.test('SIGTERM: r2d2 stops and removes its socket', async (t) => {
    server.child.kill('SIGTERM');
    t.equal(await server.exited, 0);
    t.notOk(existsSync(socket), 'the socket file is gone');
  });
});
