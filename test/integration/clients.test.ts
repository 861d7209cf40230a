import t from 'tap';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fixture } from '../helpers/fixture';
import { asServed, putMessage, sampleMessage } from '../helpers/maildir';
import { run } from '../helpers/run';

const tricky = [
  sampleMessage(1),
  'Subject: dots\n\n.\n..two\n.three\nend',
  'Subject: crlf\r\n\r\nmixed\nline\r\nendings\r\n',
  Buffer.concat([Buffer.from('Subject: 8bit\nContent-Type: text/plain; charset=latin1\n\n'), Buffer.from([0xe9, 0xe8, 0xff, 0x0a])]),
  'Subject: long line\n\n' + 'L'.repeat(10000) + '\n',
  'Subject: empty body\n\n',
];

async function populated(t: Parameters<typeof fixture>[0]) {
  const f = await fixture(t);
  const md = f.mail.maildir('client');
  tricky.forEach((m) => putMessage(md, m));
  await f.db.addUser('client@example.com', 'pa ss', md);
  return { f, md };
}

t.test('curl pop3:// downloads every message byte-exact, and lists and UIDLs', async (t) => {
  const { f } = await populated(t);
  const base = `pop3://127.0.0.1:${f.server.port}`;
  const auth = ['--user', 'client@example.com:pa ss', '-s', '-S'];
  for (let i = 0; i < tricky.length; i++) {
    const r = await run('curl', [...auth, `${base}/${i + 1}`]);
    t.equal(r.code, 0, r.stderr);
    // curl un-stuffs and keeps the CRLFs of the body.
    t.equal(r.stdout.toString('latin1'), asServed(tricky[i] ?? '').toString('latin1'), `message ${i + 1}`);
  }
  const list = await run('curl', [...auth, `${base}/`]);
  t.equal(list.stdout.toString().trim().split('\r\n').length, tricky.length);
  const uidl = await run('curl', [...auth, '-X', 'UIDL', `${base}/`]);
  t.equal(uidl.stdout.toString().trim().split('\r\n').length, tricky.length);
  const top = await run('curl', [...auth, '-X', 'TOP 1 0', `${base}/`]);
  t.match(top.stdout.toString(), /^From: sender1@example.com\r\n/);
});

t.test("Python's poplib downloads every message byte-exact and deletes with QUIT", async (t) => {
  const { f, md } = await populated(t);
  const script = `
import poplib, sys, hashlib
poplib._MAXLINE = 1 << 20  # poplib refuses lines over 2048 octets; one message has a 10 KB line
p = poplib.POP3('127.0.0.1', ${f.server.port}, timeout=20)
p.user('client@example.com'); p.pass_('pa ss')
count, size = p.stat()
out = []
for i in range(1, count + 1):
    resp, lines, octets = p.retr(i)
    data = b''.join(l + b'\\r\\n' for l in lines)
    out.append('%d %d %s' % (i, octets, hashlib.sha256(data).hexdigest()))
    p.dele(i)
print(p.quit().decode())
print('\\n'.join(out))
`;
  const r = await run('python3', ['-c', script]);
  t.equal(r.code, 0, r.stderr);
  const [quit, ...rows] = r.stdout.toString().trim().split('\n');
  t.equal(quit, `+OK r2d2 signing off (${tricky.length} messages deleted)`);
  const { createHash } = await import('node:crypto');
  tricky.forEach((m, i) => {
    const served = asServed(m);
    t.equal(rows[i], `${i + 1} ${served.length} ${createHash('sha256').update(served).digest('hex')}`, `message ${i + 1}`);
  });
  t.same([...readdirSync(join(md, 'new')), ...readdirSync(join(md, 'cur'))], []);
});
