// Issue 12, High 1: a client that sends USER/PASS, waits 150 ms and resets the connection (RST)
// made 1,501 guesses in 11.5 s from one address: the per-address slot was given back on the
// socket's close while the session still slept out its failed-login delay. Now a connection
// holds its slots until its session is gone, so the brake holds, and other addresses are
// greeted at once meanwhile.
import t from 'tap';
import { connect, type Socket } from 'node:net';
import { fixture } from '../helpers/fixture';

const ATTACK_MS = 8000;
const PARALLEL = 150;

/** One guess: greeting, USER, PASS, 150 ms, then RST. Resolves whether the PASS was sent. */
function guess(port: number, n: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ host: '127.0.0.1', port });
    let text = '';
    let sent = false;
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (!sent && text.startsWith('+OK') && text.includes('\r\n')) {
        sent = true;
        socket.write(`USER alice\r\nPASS guess${n}\r\n`);
        setTimeout(() => socket.resetAndDestroy(), 150);
      } else if (!sent && text.startsWith('-ERR')) socket.destroy();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(sent));
  });
}

/** ms until a client from another loopback address is greeted. */
function greetingDelay(port: number): Promise<number> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
    socket.once('data', (d: Buffer) => {
      socket.destroy();
      if (d.toString().startsWith('+OK')) resolve(Date.now() - started);
      else reject(new Error(`refused: ${d.toString()}`));
    });
    socket.on('error', reject);
  });
}

t.test('RST after PASS from one address: the failed-login brake and the per-address cap hold', async (t) => {
  const f = await fixture(t, { limits: 'auth_failure_delay_ms = 1000  auth_penalty_max_ms = 15000  max_connections_per_address = 50', maxConnections: 300 });
  await f.db.addUser('alice', 'the-right-one', f.mail.maildir('alice'));
  const deadline = Date.now() + ATTACK_MS;
  let n = 0;
  const attacker = async (): Promise<void> => {
    while (Date.now() < deadline) await guess(f.server.port, n++);
  };
  const attackers = Promise.all(Array.from({ length: PARALLEL }, attacker));
  const waits: number[] = [];
  for (let i = 0; i < 4; i++) {
    await new Promise((r) => setTimeout(r, 1500));
    waits.push(await greetingDelay(f.server.port));
  }
  await attackers;
  const started = f.server.lines.findIndex((l) => l.includes('connected'));
  const guesses = f.server.lines.slice(started).filter((l) => l.includes('login failed: bad credentials')).length;
  const rate = guesses / (ATTACK_MS / 1000);
  t.comment(`RST brute force: ${guesses} guesses in ${ATTACK_MS} ms (${rate.toFixed(1)}/s); another address greeted in ${waits.join(', ')} ms`);
  t.ok(rate < 10, `under 10 guesses/s from one address (${rate.toFixed(1)}/s)`);
  t.ok(Math.max(...waits) < 1000, 'another address is greeted within 1 s meanwhile');
  t.ok(f.server.lines.some((l) => l.includes('connection refused: max_connections_per_address reached')), 'the cap refused the rest');
  t.ok(f.server.server.sessions <= 50, `no more than 50 sessions of that address alive (${f.server.server.sessions})`);
});
