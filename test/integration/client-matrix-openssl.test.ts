// openssl s_client against r2d2, STLS (-starttls pop3) and implicit TLS: a raw transcript of
// RETR for every awkward message, un-stuffed here, byte-exact. (No plain mode: s_client is TLS.)
import t from 'tap';
import { matrixServer, MESSAGES, PASSWORD, populate, USER } from '../helpers/client-matrix';
import { asServed } from '../helpers/maildir';
import { run } from '../helpers/run';

/** The multi-line RETR replies of a transcript, un-stuffed, with their status lines. */
function retrReplies(transcript: Buffer): Array<{ status: string; body: Buffer }> {
  const text = transcript.toString('latin1');
  const lines = text.split('\r\n');
  const out: Array<{ status: string; body: Buffer }> = [];
  for (let i = 0; i < lines.length; i++) {
    const status = lines[i] ?? '';
    if (!/^\+OK \d+ octets$/.test(status)) continue;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '.'; i++) {
      const line = lines[i] ?? '';
      body.push((line.startsWith('.') ? line.slice(1) : line) + '\r\n');
    }
    out.push({ status, body: Buffer.from(body.join(''), 'latin1') });
  }
  return out;
}

t.test('openssl s_client: STLS and implicit TLS, every message byte-exact', async (t) => {
  const f = await matrixServer(t);
  await populate(f);
  const script = [`USER ${USER}`, `PASS ${PASSWORD}`, ...MESSAGES.map((_, i) => `RETR ${i + 1}`), 'QUIT', ''].join('\n');
  const common = ['-CAfile', f.certs.ca, '-verify_return_error', '-quiet', '-crlf', '-ign_eof', '-servername', 'localhost'];
  for (const [mode, args] of [
    ['stls', ['-starttls', 'pop3', '-connect', `127.0.0.1:${f.ports.stls}`]],
    ['implicit', ['-connect', `127.0.0.1:${f.ports.implicit}`]],
  ] as const) {
    const r = await run('openssl', ['s_client', ...args, ...common], { input: script });
    t.equal(r.code, 0, `${mode}: s_client exit 0`, { stderr: r.stderr });
    const replies = retrReplies(r.stdout);
    t.equal(replies.length, MESSAGES.length, `${mode}: ${MESSAGES.length} RETR replies`);
    MESSAGES.forEach((m, i) => {
      const served = asServed(m.bytes);
      t.equal(replies[i]?.status, `+OK ${served.length} octets`, `${mode}: ${m.name}: size announced`);
      t.equal(replies[i]?.body.toString('latin1'), served.toString('latin1'), `${mode}: ${m.name} byte-exact`);
    });
    t.match(r.stdout.toString('latin1'), /\+OK r2d2 signing off\r\n$/, `${mode}: QUIT`);
  }
});
