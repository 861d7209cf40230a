// RETR's buffers come from a pool shared by the sessions of a thread (pop3/buffer-pool.ts): a
// buffer the wire still holds -- written, not yet taken by the kernel -- must never be handed to
// another reply, of this session or another. A lagging MemoryWire keeps references to what is
// written instead of copies, so a buffer reused too early shows up as wrong bytes.
import t from 'tap';
import { ByteSessions, type ByteSession } from '../helpers/byte-session';
import { asServed, putMessage } from '../helpers/maildir';

/** A message of about `octets` whose every line names it, so that a mix-up shows. */
function letter(tag: string, octets: number, crlf: boolean): string {
  const eol = crlf ? '\r\n' : '\n';
  const lines = [`Subject: ${tag}`, ''];
  for (let i = 0; lines.join(eol).length < octets; i++) lines.push(`${tag} line ${i} ${'x'.repeat(60)}`);
  lines.push('.a line that needs a dot more', '');
  return lines.join(eol);
}

const served = (message: string): string => `+OK ${asServed(message).length} octets\r\n${asServed(message).toString('latin1').replace(/^\./gm, '..')}.\r\n`;

/** Lets the sessions' pending work run until `done` holds (no sleeping). */
async function settle(done: () => boolean): Promise<void> {
  for (let i = 0; i < 20_000 && !done(); i++) await new Promise((resolve) => setImmediate(resolve));
  if (!done()) throw new Error('never settled');
}

async function login(c: ByteSession, user: string): Promise<void> {
  await c.exchange(`USER ${user}\r\nPASS pw\r\n`, /octets\)\r\n$/);
}

for (const crlf of [false, true]) {
  const stored = crlf ? 'stored with CRLF (sent as it is)' : 'stored with LF (encoded)';
  t.test(`${stored}: a reply the wire still holds keeps its buffers while other replies run`, async (t) => {
    const s = new ByteSessions(t);
    const alice = s.addUser('alice', 'pw');
    const bob = s.addUser('bob', 'pw');
    // Sizes grow message by message, as a client RETRs them in order.
    const mine = [letter('alice-1', 20_000, crlf), letter('alice-2', 30_000, crlf), letter('alice-3', 45_000, crlf)];
    const theirs = [letter('bob-1', 25_000, crlf), letter('bob-2', 50_000, crlf)];
    for (const m of mine) putMessage(alice, m);
    for (const m of theirs) putMessage(bob, m);

    const a = s.open();
    await login(a, 'alice');
    a.wire.take();
    a.wire.lagging = true;
    a.send('RETR 1\r\nRETR 2\r\n');
    const expectedA = served(mine[0] as string) + served(mine[1] as string);
    await settle(() => a.wire.buffered >= expectedA.length);

    // Meanwhile another session of the thread retrieves, taking buffers from the same pool.
    const b = s.open();
    await login(b, 'bob');
    t.equal(await b.exchange('RETR 1\r\n', /\r\n\.\r\n$/), served(theirs[0] as string), "bob's first message, exact");
    t.equal(await b.exchange('RETR 2\r\n', /\r\n\.\r\n$/), served(theirs[1] as string), "bob's second message, exact");

    a.wire.lagging = false;
    a.wire.flush();
    t.equal(a.wire.take(), expectedA, "alice's replies, held by the wire all along, arrive exact");
    t.equal(await a.exchange('RETR 3\r\n', /\r\n\.\r\n$/), served(mine[2] as string), 'and the next one once the wire is idle');
    t.equal(await a.exchange('TOP 2 1\r\n', /\r\n\.\r\n$/).then((x) => x.split('\r\n')[1]), 'Subject: alice-2', 'TOP too');
  });
}
