// Postfix's pipe(8) transport wired to `r2d2 deliver`, mail sent by SMTP on loopback, read back
// through the POP3 server. Postfix runs from a private config and queue folder, in the
// foreground as a child of this test, on a free loopback port; nothing of the machine's own
// mail set-up is used or touched.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import t from 'tap';
import { fixture } from '../helpers/fixture';
import { asServed } from '../helpers/maildir';
import { testConfigText } from '../helpers/test-server';
import { freePort } from '../helpers/ports';

const R2D2 = path.resolve(__dirname, '../../../bin/r2d2');
const POSTFIX = ['/usr/sbin/postfix', '/usr/lib/postfix/sbin/master'];
const NOBODY = 65534;

function skipReason(): string | false {
  if (process.getuid?.() !== 0) return 'Postfix needs root to start';
  if (!POSTFIX.every((p) => fs.existsSync(p))) return 'postfix is not installed (apt-get install postfix)';
  // env -i: as pipe(8) runs it, without what the test runner adds to the environment of its children.
  const probe = spawnSync('/usr/bin/env', ['-i', process.execPath, R2D2, '--version'], { uid: NOBODY, gid: NOBODY, encoding: 'utf8' });
  if (probe.status !== 0) return `the delivery user (nobody) cannot run ${process.execPath} ${R2D2}: ${probe.stderr}`;
  return false;
}


/** One SMTP transaction; resolves with the server's lines. */
function smtpSend(port: number, from: string, to: string, data: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const text = data.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
    const script = ['EHLO client.test', `MAIL FROM:<${from}>`, `RCPT TO:<${to}>`, 'DATA', (text.endsWith('\r\n') ? text : text + '\r\n') + '.', 'QUIT'];
    const lines: string[] = [];
    let buffer = '';
    let step = 0;
    socket.on('data', (d: Buffer) => {
      buffer += d.toString('latin1');
      for (let i = buffer.indexOf('\r\n'); i !== -1; i = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        lines.push(line);
        if (line[3] === '-') continue; // a continued reply
        if (!/^[23]/.test(line)) {
          socket.destroy();
          reject(new Error(`SMTP: ${lines.join(' | ')}`));
          return;
        }
        const next = script[step++];
        if (next !== undefined) socket.write(next + '\r\n');
      }
    });
    socket.on('close', () => resolve(lines));
    socket.on('error', reject);
  });
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

t.test('Postfix pipe -> r2d2 deliver -> POP3', { skip: skipReason() }, async (t) => {
  const f = await fixture(t);
  fs.chmodSync(f.mail.path, 0o755);
  const base = path.join(f.mail.path, 'postfix');
  const etc = path.join(base, 'etc');
  const mail = path.join(f.mail.path, 'vhosts');
  for (const d of [etc, path.join(base, 'queue'), path.join(base, 'data'), mail]) fs.mkdirSync(d, { recursive: true, mode: 0o755 });
  fs.chownSync(path.join(base, 'data'), spawnSync('id', ['-u', 'postfix'], { encoding: 'utf8' }).stdout.trim() === '' ? 0 : Number(spawnSync('id', ['-u', 'postfix'], { encoding: 'utf8' }).stdout.trim()), 0);
  fs.chownSync(mail, NOBODY, NOBODY);

  const alice = path.join(mail, 'example.com', 'alice');
  const carol = path.join(mail, 'example.com', 'carol');
  await f.db.addUser('alice@example.com', 'pw', alice);
  await f.db.addUser('carol@example.com', 'pw', carol);
  await f.db.query(`UPDATE \`${f.db.name}\`.mailbox SET quota = '10' WHERE username = 'carol@example.com'`);
  const personality = path.join(base, 'personality');
  fs.mkdirSync(personality, { mode: 0o755 });
  const deliverSection = 'deliver { recipient_query_format_string = "SELECT maildir, quota FROM mailbox WHERE username = %u AND active = 1" }';
  fs.writeFileSync(path.join(personality, 'c11n'), testConfigText({ database: f.db.name, maildirRoot: mail, extra: deliverSection }), { mode: 0o644 });

  const port = await freePort();
  const log = path.join(base, 'maillog');
  fs.writeFileSync(
    path.join(etc, 'main.cf'),
    `compatibility_level = 3.6
queue_directory = ${base}/queue
data_directory = ${base}/data
mail_owner = postfix
myhostname = r2d2-test.localdomain
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_recipient_restrictions = permit_mynetworks, reject
smtpd_peername_lookup = no
virtual_mailbox_domains = example.com
virtual_mailbox_maps = static:ok
virtual_transport = r2d2
r2d2_destination_recipient_limit = 1
default_transport = discard
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtputf8_enable = no
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
maillog_file_prefixes = ${base}
maillog_file = ${log}
`,
  );
  const services = [
    `127.0.0.1:${port} inet n - n - - smtpd`,
    'pickup unix n - n 60 1 pickup',
    'cleanup unix n - n - 0 cleanup',
    'qmgr unix n - n 300 1 qmgr',
    'rewrite unix - - n - - trivial-rewrite',
    'bounce unix - - n - 0 bounce',
    'defer unix - - n - 0 bounce',
    'trace unix - - n - 0 bounce',
    'verify unix - - n - 1 verify',
    'flush unix n - n 1000? 0 flush',
    'proxymap unix - - n - - proxymap',
    'showq unix n - n - - showq',
    'error unix - - n - - error',
    'retry unix - - n - - error',
    'discard unix - - n - - discard',
    'anvil unix - - n - 1 anvil',
    'scache unix - - n - 1 scache',
    'postlog unix-dgram n - n - 1 postlogd',
    'r2d2 unix - n n - - pipe',
    `  flags=DRhu user=nobody argv=${process.execPath} ${R2D2} deliver -p ${personality} --recipient \${recipient}`,
  ];
  fs.writeFileSync(path.join(etc, 'master.cf'), services.join('\n') + '\n');

  const master: ChildProcess = spawn('/usr/sbin/postfix', ['-c', etc, 'start-fg'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  master.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  master.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => master.on('exit', () => resolve()));
  t.teardown(async () => {
    spawnSync('/usr/sbin/postfix', ['-c', etc, 'stop']);
    const timer = setTimeout(() => master.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  });
  const maillog = (): string => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '');
  await waitFor(`Postfix listening (${output})`, () => (/daemon started/.test(maillog()) ? true : undefined));

  const body = 'Subject: through Postfix\nFrom: sender@example.net\n\nhello alice\n.a line with a leading dot\nlast line\n';
  await smtpSend(port, 'sender@example.net', 'alice@example.com', body);
  await smtpSend(port, '', 'bob@example.com', 'Subject: to nobody\n\nx\n');
  await smtpSend(port, '', 'carol@example.com', 'Subject: too big for carol\n\n' + 'x'.repeat(100) + '\n');

  await waitFor('the delivery to alice', () => (/to=<alice@example\.com>, relay=r2d2.*status=sent/.test(maillog()) ? true : undefined));
  await waitFor('the bounce for bob', () => (/to=<bob@example\.com>, relay=r2d2.*status=bounced/.test(maillog()) ? true : undefined));
  t.match(maillog(), /to=<bob@example\.com>, relay=r2d2.*dsn=5\.1\.1, status=bounced \(user unknown\. Command output: r2d2 deliver: unknown recipient: bob@example\.com/, '67 bounces as 5.1.1');
  await waitFor('the deferral for carol', () => (/to=<carol@example\.com>, relay=r2d2.*status=deferred/.test(maillog()) ? true : undefined));
  t.match(maillog(), /to=<carol@example\.com>.*dsn=4\.3\.0, status=deferred \(temporary failure\. Command output: r2d2 deliver: mailbox is over quota/, '75 defers as 4.3.0');
  t.same(fs.existsSync(path.join(carol, 'new')) ? fs.readdirSync(path.join(carol, 'new')) : [], [], 'nothing in carol’s new/');

  const files = fs.readdirSync(path.join(alice, 'new'));
  t.equal(files.length, 1);
  t.equal(fs.statSync(path.join(alice, 'new', files[0] ?? '')).uid, NOBODY, 'written as the pipe user');
  const c = await f.loggedIn('alice@example.com', 'pw');
  const list = await c.cmd('LIST 1');
  const retr = (await c.cmd('RETR 1')).body?.toString('latin1') ?? '';
  t.match(retr, /^Return-Path: <sender@example\.net>\r\nDelivered-To: alice@example\.com\r\n/, 'pipe flags R and D');
  t.ok(retr.endsWith(asServed(body.split('\n\n').slice(1).join('\n\n')).toString('latin1')), 'the body arrives intact (the dot line too)');
  t.equal(list.text, `1 ${retr.length}`, 'LIST = octets received');
  await c.cmd('QUIT');
});
