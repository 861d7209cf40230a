// Python's poplib against r2d2, plain / STLS (POP3.stls) / implicit (POP3_SSL): every awkward
// message byte-exact (lines joined with CRLF again: poplib un-stuffs and strips only the line
// ends), UIDL and TOP, deletion at QUIT, and a 20 MB message.
import t from 'tap';
import { createHash } from 'node:crypto';
import { bigMessage, matrixServer, MESSAGES, messageFiles, PASSWORD, populate, USER, type Mode } from '../helpers/client-matrix';
import { asServed } from '../helpers/maildir';
import { run } from '../helpers/run';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** A poplib session in `mode`: RETR every message (printing sizes and digests), optionally DELE each. */
function script(mode: Mode, port: number, ca: string, dele: boolean): string {
  const connect = {
    plain: `p = poplib.POP3('127.0.0.1', ${port}, timeout=60)`,
    stls: `p = poplib.POP3('localhost', ${port}, timeout=60)\np.stls(context=ctx)`,
    implicit: `p = poplib.POP3_SSL('localhost', ${port}, context=ctx, timeout=60)`,
  }[mode];
  return `
import poplib, ssl, hashlib, json
poplib._MAXLINE = 1 << 20  # poplib refuses lines over 2048 octets by default; one message has a 10 KB line
ctx = ssl.create_default_context(cafile=${JSON.stringify(ca)})
${connect}
caps = sorted(p.capa().keys())
p.user(${JSON.stringify(USER)}); p.pass_(${JSON.stringify(PASSWORD)})
count, size = p.stat()
out = {'caps': caps, 'count': count, 'size': size, 'messages': []}
out['uidl'] = [l.decode().split(' ')[1] for l in p.uidl()[1]]
out['top'] = hashlib.sha256(b''.join(l + b'\\r\\n' for l in p.top(1, 0)[1])).hexdigest()
for i in range(1, count + 1):
    resp, lines, octets = p.retr(i)
    data = b''.join(l + b'\\r\\n' for l in lines)
    out['messages'].append([resp.decode(), len(data), hashlib.sha256(data).hexdigest()])
    ${dele ? 'p.dele(i)' : 'pass'}
out['quit'] = p.quit().decode()
print(json.dumps(out))
`;
}

interface Result {
  caps: string[];
  count: number;
  size: number;
  uidl: string[];
  top: string;
  messages: Array<[string, number, string]>;
  quit: string;
}

t.test('poplib: plain, STLS and implicit TLS; DELE at QUIT', async (t) => {
  const f = await matrixServer(t);
  const md = await populate(f);
  const served = MESSAGES.map((m) => asServed(m.bytes));
  for (const mode of ['implicit', 'stls', 'plain'] as const) {
    const dele = mode === 'plain';
    const r = await run('python3', ['-c', script(mode, f.ports[mode], f.certs.ca, dele)]);
    t.equal(r.code, 0, `${mode}: python exit 0`, { stderr: r.stderr });
    const got = JSON.parse(r.stdout.toString()) as Result;
    t.equal(got.count, MESSAGES.length, `${mode}: STAT count`);
    t.equal(got.size, served.reduce((a, b) => a + b.length, 0), `${mode}: STAT octets = octets received`);
    t.ok(got.caps.includes('UIDL') && got.caps.includes('TOP') && got.caps.includes('PIPELINING'), `${mode}: CAPA`);
    t.equal(new Set(got.uidl).size, MESSAGES.length, `${mode}: unique UIDLs`);
    t.equal(got.top, sha(Buffer.from('Message-ID: <dots@matrix.test>\r\nSubject: dots\r\n\r\n')), `${mode}: TOP 1 0`);
    MESSAGES.forEach((m, i) => {
      const s = served[i] ?? Buffer.alloc(0);
      t.same(got.messages[i], [`+OK ${s.length} octets`, s.length, sha(s)], `${mode}: ${m.name} byte-exact`);
    });
    t.equal(got.quit, dele ? `+OK r2d2 signing off (${MESSAGES.length} messages deleted)` : '+OK r2d2 signing off', `${mode}: QUIT`);
    t.equal(messageFiles(md), dele ? 0 : MESSAGES.length, `${mode}: ${dele ? 'all deleted' : 'all kept'}`);
  }
});

t.test('poplib: a 20 MB message, plain and STLS', async (t) => {
  const f = await matrixServer(t);
  const big = bigMessage(20 * 1024 * 1024);
  await populate(f, [{ bytes: big }]);
  const served = asServed(big);
  for (const mode of ['plain', 'stls'] as const) {
    const r = await run('python3', ['-c', script(mode, f.ports[mode], f.certs.ca, false)], { timeoutMs: 90000 });
    t.equal(r.code, 0, `${mode}: python exit 0`, { stderr: r.stderr });
    const got = JSON.parse(r.stdout.toString()) as Result;
    t.same(got.messages, [[`+OK ${served.length} octets`, served.length, sha(served)]], `${mode}: ${served.length} octets byte-exact`);
  }
});
