// Postfix's pipe(8) transport wired to `r2d2 deliver`, mail sent by SMTP on loopback, read back
// through the POP3 server. Postfix runs from a private config and queue folder, in the
// foreground as a child of this test, on a free loopback port; nothing of the machine's own
// mail set-up is used or touched.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { fixture } from '../helpers/fixture';
import { asServed } from '../helpers/maildir';
import { postfixMissing, smtpSend, startPostfix } from '../helpers/postfix';
import { testConfigText } from '../helpers/test-server';

const R2D2 = path.resolve(__dirname, '../../../bin/r2d2');
const NOBODY = 65534;

function skipReason(): string | false {
  const missing = postfixMissing();
  if (missing !== false) return missing;
  // env -i: as pipe(8) runs it, without what the test runner adds to the environment of its children.
  const probe = spawnSync('/usr/bin/env', ['-i', process.execPath, R2D2, '--version'], { uid: NOBODY, gid: NOBODY, encoding: 'utf8' });
  if (probe.status !== 0) return `the delivery user (nobody) cannot run ${process.execPath} ${R2D2}: ${probe.stderr}`;
  return false;
}

t.test('Postfix pipe -> r2d2 deliver -> POP3', { skip: skipReason() }, async (t) => {
  const f = await fixture(t);
  fs.chmodSync(f.mail.path, 0o755);
  const base = path.join(f.mail.path, 'postfix');
  const mail = path.join(f.mail.path, 'vhosts');
  for (const d of [base, mail]) fs.mkdirSync(d, { recursive: true, mode: 0o755 });
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

  const postfix = await startPostfix(t, base, {
    main: 'virtual_mailbox_domains = example.com\nvirtual_mailbox_maps = static:ok\nvirtual_transport = r2d2\nr2d2_destination_recipient_limit = 1',
    master: ['r2d2 unix - n n - - pipe', `  flags=DRhu user=nobody argv=${process.execPath} ${R2D2} deliver -p ${personality} --recipient \${recipient}`],
  });
  const { port, maillog } = postfix;
  const waitFor = (what: string, pattern: RegExp): Promise<RegExpExecArray> => postfix.waitForLog(what, pattern);

  const body = 'Subject: through Postfix\nFrom: sender@example.net\n\nhello alice\n.a line with a leading dot\nlast line\n';
  await smtpSend(port, 'sender@example.net', 'alice@example.com', body);
  await smtpSend(port, '', 'bob@example.com', 'Subject: to nobody\n\nx\n');
  await smtpSend(port, '', 'carol@example.com', 'Subject: too big for carol\n\n' + 'x'.repeat(100) + '\n');

  await waitFor('the delivery to alice', /to=<alice@example\.com>, relay=r2d2.*status=sent/);
  await waitFor('the bounce for bob', /to=<bob@example\.com>, relay=r2d2.*status=bounced/);
  t.match(maillog(), /to=<bob@example\.com>, relay=r2d2.*dsn=5\.1\.1, status=bounced \(user unknown\. Command output: r2d2 deliver: unknown recipient: bob@example\.com/, '67 bounces as 5.1.1');
  await waitFor('the deferral for carol', /to=<carol@example\.com>, relay=r2d2.*status=deferred/);
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
