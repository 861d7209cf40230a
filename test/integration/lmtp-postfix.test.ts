// Postfix's lmtp(8) client delivering to r2d2's LMTP socket (virtual_transport =
// lmtp:unix:PATH): one message to three recipients -- one delivered, one unknown, one over
// quota -- and what Postfix decides for each, read from its log; the stored file read back
// through POP3 RETR, byte for byte. Postfix and `r2d2 serve` run privately on loopback.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { RECIPIENT_QUERY } from '../helpers/lmtp-server';
import { asServed } from '../helpers/maildir';
import { Pop3Client } from '../helpers/pop3-client';
import { postfixMissing, smtpSend, startPostfix } from '../helpers/postfix';
import { SpawnedServer, spawnedConfig } from '../helpers/spawned-server';
import { databaseAndMail } from '../helpers/test-resources';

t.test('Postfix lmtp:unix: -> r2d2 serve -> POP3', { skip: postfixMissing() }, async (t) => {
  const { db, mail: root } = await databaseAndMail(t);
  fs.chmodSync(root.path, 0o755); // Postfix's processes (user postfix) reach the socket through it
  const mail = path.join(root.path, 'vhosts');
  fs.mkdirSync(mail);
  const alice = path.join(mail, 'example.com', 'alice');
  const carol = path.join(mail, 'example.com', 'carol');
  await db.addUser('alice@example.com', 'pw', alice);
  await db.addUser('carol@example.com', 'pw', carol);
  await db.query(`UPDATE \`${db.name}\`.mailbox SET quota = '10' WHERE username = 'carol@example.com'`);

  // As documented: the socket belongs to the service user, group postfix, mode 0660.
  const socket = path.join(root.path, 'r2d2-lmtp');
  const r2d2 = await SpawnedServer.start(
    t,
    spawnedConfig(db.name, mail, `deliver { recipient_query_format_string = "${RECIPIENT_QUERY}" }\nlmtp { socket = "${socket}"  socket_group = postfix  socket_mode = 0660 }\nlog { destination = stdout  level = info }`, 1),
  );
  const base = path.join(root.path, 'postfix');
  fs.mkdirSync(base, { mode: 0o755 });
  const postfix = await startPostfix(t, base, {
    main: `virtual_mailbox_domains = example.com\nvirtual_mailbox_maps = static:ok\nvirtual_transport = lmtp:unix:${socket}`,
    master: ['lmtp unix - - n - - lmtp'],
  });

  const body = 'Subject: through Postfix and LMTP\nFrom: sender@example.net\n\nhello\n.a line with a leading dot\n\u00e9t\u00e9 in 8 bits\nlast line\n';
  await smtpSend(postfix.port, 'sender@example.net', ['alice@example.com', 'bob@example.com', 'carol@example.com'], body);

  const sent = await postfix.waitForLog('the delivery to alice', /to=<alice@example\.com>, relay=[^\n]*status=sent \(([^\n]*)\)/);
  t.match(sent[1], /250 2\.6\.0 <alice@example\.com> delivered as \S+/, 'Postfix logs the 250 after DATA');
  const bounced = await postfix.waitForLog('the bounce for bob', /to=<bob@example\.com>, relay=[^\n]*dsn=([\d.]+), status=(\w+) \(([^\n]*)\)/);
  t.same([bounced[1], bounced[2]], ['5.1.1', 'bounced'], 'unknown user: bounced 5.1.1');
  t.match(bounced[3], /550 5\.1\.1 <bob@example\.com> unknown user \(in reply to RCPT TO command\)/);
  const deferred = await postfix.waitForLog('the deferral for carol', /to=<carol@example\.com>, relay=[^\n]*dsn=([\d.]+), status=(\w+) \(([^\n]*)\)/);
  t.same([deferred[1], deferred[2]], ['4.2.2', 'deferred'], 'over quota (over_quota = tempfail): deferred 4.2.2');
  t.match(deferred[3], /452 4\.2\.2 <carol@example\.com> mailbox is over quota.*\(in reply to end of DATA command\)/);
  t.same(fs.existsSync(path.join(carol, 'new')) ? fs.readdirSync(path.join(carol, 'new')) : [], [], 'nothing in carol’s new/');
  t.same(fs.existsSync(path.join(carol, 'tmp')) ? fs.readdirSync(path.join(carol, 'tmp')) : [], [], 'nor in her tmp/');

  const [file, ...others] = fs.readdirSync(path.join(alice, 'new'));
  t.same(others, [], 'one file for alice');
  const stored = fs.readFileSync(path.join(alice, 'new', file ?? ''));
  const { client } = await Pop3Client.greeted(r2d2.port());
  t.teardown(() => client.destroy());
  t.equal((await client.login('alice@example.com', 'pw')).ok, true);
  const list = await client.cmd('LIST 1');
  const retr = (await client.cmd('RETR 1', true)).body ?? Buffer.alloc(0);
  t.ok(retr.equals(asServed(stored)), 'RETR serves the stored file byte for byte');
  t.match(retr.toString('latin1'), /^Return-Path: <sender@example\.net>\r\nDelivered-To: alice@example\.com\r\n/, 'Return-Path and Delivered-To first');
  t.ok(retr.subarray(retr.length - asServed(Buffer.from(body.split('\n\n').slice(1).join('\n\n'))).length).equals(asServed(Buffer.from(body.split('\n\n').slice(1).join('\n\n')))), 'the body arrives intact: the dot line, 8-bit text');
  t.equal(list.text, `1 ${retr.length}`, 'LIST = octets received');
  await client.cmd('QUIT');
});
