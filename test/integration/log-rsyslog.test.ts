// r2d2's log lines received by a real rsyslogd (Debian's rsyslog, started here with a private
// config): through the syslog socket (RFC 3164) and straight over UDP (RFC 5424), the exact
// session lines, the personality's rsyslog snippet, the fail2ban filter run by fail2ban-regex
// on what rsyslog wrote, and a dead or stuck collector that loses lines but never a session.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { openLog } from '../../src/log/logger';
import { fixture } from '../helpers/fixture';
import { putMessage, rfc822Size, sampleMessage } from '../helpers/maildir';
import { Rsyslog } from '../helpers/rsyslog';
import { run } from '../helpers/run';
import { tlsFixture } from '../helpers/tls-fixture';

const ROOT = join(__dirname, '../../..');
const SNIPPET = readFileSync(join(ROOT, 'personality/rsyslog/r2d2.conf'), 'utf8').replaceAll('/var/log/r2d2.log', '$DIR/r2d2.log');
const FILTER = join(ROOT, 'personality/fail2ban/filter.d/r2d2.conf');
const TAG = 'server.pop3.r2d2[4242]';

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

t.test('rsyslog receives the session lines', async (t) => {
  const rsyslog = await Rsyslog.start(SNIPPET);
  t.teardown(() => rsyslog.stop());

  // Each server below logs with its own facility, so its lines can be told apart in one file.
  const received = (facility: string, session: number, text: string): Promise<string> =>
    rsyslog.line(new RegExp(`^${facility}\\.\\w+ ${esc(TAG)}: \\[${session}\\] ${esc(text)}`));

  t.test('through the syslog socket, RFC 3164, facility mail', async (t) => {
    const f = await fixture(t, { log: `log { destination = syslog  syslog_socket = "${rsyslog.socketPath}"  level = info }` });
    const alice = f.mail.maildir('alice');
    const bodies = [1, 2, 3, 4].map((i) => sampleMessage(i));
    for (const body of bodies) putMessage(alice, body);
    const octets = bodies.reduce((sum, b) => sum + rfc822Size(Buffer.from(b)), 0);
    await f.db.addUser('alice', 'pw', alice);
    await f.db.addUser('carol', 'pw', f.mail.maildir('carol'));

    // [1] the session: USER PASS STAT UIDL RETR RETR RETR RETR DELE DELE DELE DELE QUIT
    const c1 = await f.client();
    for (const line of ['USER alice', 'PASS pw', 'STAT', 'UIDL', 'RETR 1', 'RETR 2', 'RETR 3', 'RETR 4', 'DELE 1', 'DELE 2', 'DELE 3', 'DELE 4', 'QUIT']) {
      t.ok((await c1.cmd(line)).ok, line);
    }
    t.equal(
      await received('mail', 1, 'disconnected'),
      `mail.info ${TAG}: [1] disconnected: peer quit, sequence="upsUr4d4q" delays="0"`,
      'the disconnect line, exactly',
    );
    t.equal(await received('mail', 1, 'connected'), `mail.info ${TAG}: [1] connected peer="127.0.0.1" listener="pop3" tls="none"`);
    t.equal(await received('mail', 1, 'login ok'), `mail.info ${TAG}: [1] login ok user="alice" messages="4" octets="${octets}"`);
    t.equal(await received('mail', 1, 'update done'), `mail.info ${TAG}: [1] update done user="alice" deleted="4" failed="0"`);
    t.notOk(rsyslog.lines().some((l) => l.includes('pw')), 'no password in any line');

    // [2] an invalid command
    const c2 = await f.client();
    t.notOk((await c2.cmd('XYZZY')).ok);
    t.ok((await c2.cmd('QUIT')).ok);
    t.equal(await received('mail', 2, 'disconnected'), `mail.info ${TAG}: [2] disconnected: peer quit, sequence="!q" delays="0"`);

    // [3] a dropped connection: no QUIT, still a disconnect line
    const c3 = await f.client();
    t.ok((await c3.cmd('USER alice')).ok);
    c3.destroy();
    t.equal(await received('mail', 3, 'disconnected'), `mail.info ${TAG}: [3] disconnected: peer closed, sequence="u" delays="0"`);

    // [4] a failed login whose name tries to forge a field and a line (U+2028 is a line end to some readers)
    const forged = 'eve" peer="10.9.9.9\u2028server.pop3.r2d2[1]: [9] login ok user="root';
    const c4 = await f.client();
    t.ok((await c4.cmd(`USER ${forged}`)).ok);
    t.notOk((await c4.cmd('PASS wrong-secret')).ok);
    t.ok((await c4.cmd('USER alice')).ok);
    t.notOk((await c4.cmd('PASS guess-secret')).ok);
    t.ok((await c4.cmd('QUIT')).ok);
    t.equal(
      await received('mail', 4, 'login failed: bad credentials user="eve'),
      `mail.info ${TAG}: [4] login failed: bad credentials user="eve\\" peer=\\"10.9.9.9\\u2028server.pop3.r2d2[1]: [9] login ok user=\\"root" peer="127.0.0.1"`,
      'the name is escaped: one line, one user field',
    );
    t.equal(await received('mail', 4, 'disconnected'), `mail.info ${TAG}: [4] disconnected: peer quit, sequence="upupq" delays="0"`);
    t.notOk(rsyslog.lines().some((l) => l.includes('secret')), 'no password in any line');

    // [5] holds carol's maildrop, [6] is refused the lock
    const c5 = await f.loggedIn('carol', 'pw');
    const c6 = await f.client();
    t.ok((await c6.cmd('USER carol')).ok);
    t.notOk((await c6.cmd('PASS pw')).ok);
    t.equal(await received('mail', 6, 'lock refused'), `mail.info ${TAG}: [6] lock refused: maildrop in use user="carol"`);
    t.ok((await c6.cmd('QUIT')).ok);
    t.ok((await c5.cmd('QUIT')).ok);

    // [7] too many bad commands (the limit is 10)
    const c7 = await f.client();
    for (let i = 0; i < 10; i++) c7.send('!\r\n');
    await c7.readToClose();
    t.equal(await received('mail', 7, 'disconnected'), `mail.info ${TAG}: [7] disconnected: too many bad commands, sequence="!10" delays="0"`);

    t.test('fail2ban-regex finds the failed logins with the shipped filter', async (t) => {
      const result = await run('fail2ban-regex', ['-o', 'ip', rsyslog.mailLogFile, FILTER]);
      t.equal(result.code, 0, result.stderr);
      t.same(result.stdout.toString().trim().split('\n'), ['127.0.0.1', '127.0.0.1'], 'both failures, banned by the real peer, never the forged one');
      const summary = await run('fail2ban-regex', [rsyslog.mailLogFile, FILTER]);
      t.match(summary.stdout.toString(), /Failregex: 2 total/);
    });

    t.test('the rsyslog snippet writes the README form', async (t) => {
      const line = await rsyslog.line(/\[1\] disconnected: peer quit/, join(rsyslog.dir, 'r2d2.log'));
      t.match(line, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\S+ \\S+ ${esc(TAG)}: \\[1\\] disconnected: peer quit, sequence="upsUr4d4q" delays="0"$`));
    });

    t.equal(f.server.logging.stats().lost, 0, 'nothing lost on the way');
  });

  t.test('STLS (^) in the sequence, and the TLS of the session', async (t) => {
    const f = await tlsFixture(t, { log: `log { destination = syslog  syslog_socket = "${rsyslog.socketPath}"  facility = local1 }` });
    await f.db.addUser('dave', 'pw', f.mail.maildir('dave'));
    const raw = tcpConnect(f.stlsPort, '127.0.0.1');
    const plain = lineReader(raw);
    t.match(await plain.next(), /^\+OK/, 'greeting');
    raw.write('STLS\r\n');
    t.match(await plain.next(), /^\+OK/, 'STLS');
    plain.stop();
    const secure = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({ socket: raw, ca: readFileSync(f.certs.ca), servername: 'localhost' });
      s.once('secureConnect', () => resolve(s));
      s.once('error', reject);
    });
    t.teardown(() => secure.destroy());
    const c = lineReader(secure);
    for (const command of ['USER dave', 'PASS pw', 'QUIT']) {
      secure.write(`${command}\r\n`);
      t.match(await c.next(), /^\+OK/, command);
    }
    const line = await received('local1', 1, 'disconnected');
    t.match(line, new RegExp(`^local1\\.info ${esc(TAG)}: \\[1\\] disconnected: peer quit, sequence="\\^upq" delays="0" tls="TLSv1\\.[23] \\S+"$`));
  });

  t.test('straight to a collector over UDP, RFC 5424, facility local5', async (t) => {
    const f = await fixture(t, { log: `log { destination = udp  udp_address = "127.0.0.1:${rsyslog.udpPort}"  format = rfc5424  facility = local5 }` });
    await f.db.addUser('erin', 'pw', f.mail.maildir('erin'));
    const c = await f.loggedIn('erin', 'pw');
    t.ok((await c.cmd('NOOP')).ok);
    t.ok((await c.cmd('QUIT')).ok);
    // rsyslog's default templates write an RFC 5424 tag without ":"; the snippet's template adds it.
    t.equal(await rsyslog.line(/^local5\.info .*\[1\] login ok/), `local5.info ${TAG} [1] login ok user="erin" messages="0" octets="0"`);
    t.equal(await rsyslog.line(/^local5\.info .*\[1\] disconnected/), `local5.info ${TAG} [1] disconnected: peer quit, sequence="upnq" delays="0"`);
    const snippet = await rsyslog.line(/\[1\] disconnected: peer quit, sequence="upnq"/, join(rsyslog.dir, 'r2d2.log'));
    t.match(snippet, new RegExp(`^\\S+ \\S+ ${esc(TAG)}: \\[1\\] disconnected: peer quit, sequence="upnq" delays="0"$`), 'the snippet gives RFC 5424 lines the same form');
    t.equal(f.server.logging.stats().lost, 0);
  });

  t.test('worker threads hand their lines to the main thread, which owns the syslog socket', async (t) => {
    const log = { destination: 'syslog', level: 'info', format: 'rfc3164', facility: 'local2', syslogSocket: rsyslog.socketPath, udpAddress: undefined } as const;
    const main = openLog({ identity: 'server.pop3.r2d2', log, pid: 4242 });
    t.teardown(() => main.close());
    const worker = new Worker(
      `const { openLog } = require(${JSON.stringify(join(__dirname, '../../src/log/logger.js'))});
       const { workerData } = require('node:worker_threads');
       const handle = openLog({ identity: 'server.pop3.r2d2', log: workerData, pid: 4242 });
       handle.log.child({ session: 77 }).info({ user: 'ivy' }, 'login ok');
       handle.close();`,
      { eval: true, workerData: log },
    );
    const exitCode = await new Promise<number>((resolve) => worker.once('exit', resolve));
    t.equal(exitCode, 0);
    t.equal(await received('local2', 77, 'login ok'), `local2.info ${TAG}: [77] login ok user="ivy"`);
    t.equal(main.stats().lost, 0);
  });

  t.test('a stuck syslog daemon (full socket buffer) loses lines, never a session', async (t) => {
    const stuck = await Rsyslog.start();
    t.teardown(() => stuck.stop());
    const f = await fixture(t, { log: `log { destination = syslog  syslog_socket = "${stuck.socketPath}" }` });
    const md = f.mail.maildir('frank');
    putMessage(md, sampleMessage(1));
    await f.db.addUser('frank', 'pw', md);
    stuck.pause(true);
    // More datagrams than a unix socket queues (net.unix.max_dgram_qlen, 512 by default).
    for (let i = 0; i < 2000; i++) f.server.logging.log.info({ i }, 'filler');
    const c = await f.loggedIn('frank', 'pw');
    t.equal((await c.cmd('RETR 1')).ok, true);
    t.ok((await c.cmd('DELE 1')).ok);
    t.same(await c.cmd('QUIT'), { ok: true, text: 'r2d2 signing off (1 message deleted)' }, 'the session completes');
    await f.server.waitForLine(/\[1\] disconnected: peer quit/);
    t.ok(f.server.logging.stats().lost > 0, `lines lost and counted (${f.server.logging.stats().lost})`);
    stuck.pause(false);
  });
});

t.test('a missing syslog socket: every line lost and counted, sessions unharmed, one report', async (t) => {
  const f = await fixture(t, { log: 'log { destination = syslog  syslog_socket = "/nonexistent/r2d2-test/log.sock" }' });
  await f.db.addUser('gina', 'pw', f.mail.maildir('gina'));
  const c = await f.loggedIn('gina', 'pw');
  t.same(await c.cmd('STAT'), { ok: true, text: '0 0' });
  t.ok((await c.cmd('QUIT')).ok);
  await f.server.waitForLine(/\[1\] disconnected: peer quit/);
  const lines = f.server.lines.length;
  t.equal(f.server.logging.stats().lost, lines, `all ${lines} lines counted as lost`);
  f.server.logging.reportLost();
  t.equal(f.server.lines.at(-1), `server.pop3.r2d2[4242]: log lines lost lost="${lines}" reason="syslog socket /nonexistent/r2d2-test/log.sock: ENOENT"`);
  f.server.logging.reportLost();
  t.equal(f.server.lines.length, lines + 1, 'nothing new lost, nothing reported');
});

t.test('a dead UDP collector: sessions complete, refused datagrams counted', async (t) => {
  const port = await closedUdpPort();
  const f = await fixture(t, { log: `log { destination = udp  udp_address = "127.0.0.1:${port}" }` });
  await f.db.addUser('hank', 'pw', f.mail.maildir('hank'));
  for (let i = 0; i < 3; i++) {
    const c = await f.loggedIn('hank', 'pw');
    t.same(await c.cmd('QUIT'), { ok: true, text: 'r2d2 signing off' });
    await f.server.waitForLine(new RegExp(`\\[${i + 1}\\] disconnected: peer quit`));
  }
  // ICMP port-unreachable makes later sends on the connected socket fail with ECONNREFUSED.
  await waitUntil(() => f.server.logging.stats().lost > 0);
  t.ok(f.server.logging.stats().lost > 0, `lost: ${f.server.logging.stats().lost}`);
});

/** Reads CRLF lines from a socket, one at a time. */
function lineReader(socket: Socket): { next(): Promise<string>; stop(): void } {
  let buffer = '';
  let wake: (() => void) | undefined;
  const onData = (d: Buffer): void => {
    buffer += d.toString('latin1');
    wake?.();
  };
  socket.on('data', onData);
  return {
    async next() {
      for (;;) {
        const end = buffer.indexOf('\r\n');
        if (end >= 0) {
          const line = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          return line;
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    stop: () => socket.off('data', onData),
  };
}

async function closedUdpPort(): Promise<number> {
  const { createSocket } = await import('node:dgram');
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(resolve));
  return port;
}

async function waitUntil(ready: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}
