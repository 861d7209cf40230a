// The syslog-socket transport against a plain unix datagram receiver: delivery, a missing
// socket (lost, retried after a delay on the injected clock), and a restarted daemon.
import t from 'tap';
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REOPEN_DELAY_MS, SyslogSocketTransport } from '../../src/log/syslog-socket';

interface Receiver {
  readonly messages: string[];
  close(): void;
}

interface UnixDgramSocket {
  on(event: 'message', listener: (data: Buffer) => void): void;
  bind(path: string): void;
  close(): void;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const unixDgram = require('unix-dgram') as { createSocket(type: 'unix_dgram'): UnixDgramSocket };

function receiver(path: string): Receiver {
  const socket = unixDgram.createSocket('unix_dgram');
  const messages: string[] = [];
  socket.on('message', (data) => messages.push(data.toString()));
  socket.bind(path);
  return {
    messages,
    close: () => {
      socket.close();
      unlinkSync(path);
    },
  };
}

async function until(ready: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !ready(); i++) await new Promise((resolve) => setImmediate(resolve));
}

t.test('delivery, a missing socket, a restarted daemon', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'r2d2-syslog-'));
  const path = join(dir, 'log.sock');
  let now = 1_000_000;
  const transport = new SyslogSocketTransport(path, (message, level) => `<${level}>${message}`, () => now);
  t.teardown(async () => {
    await transport.close();
    rmSync(dir, { recursive: true, force: true });
  });

  transport.send('no daemon yet', 30);
  t.equal(transport.losses.total, 1, 'no socket: lost');
  t.same(transport.losses.take(), { lost: 1, reason: `syslog socket ${path}: ENOENT` });

  const first = receiver(path);
  transport.send('still waiting', 30);
  t.equal(transport.losses.total, 2, 'within the reopen delay: not retried, lost');
  now += REOPEN_DELAY_MS;
  transport.send('[1] hello', 30);
  await until(() => first.messages.length === 1);
  t.same(first.messages, ['<30>[1] hello'], 'after the delay the socket opens');

  // The daemon restarts: a new socket at the same path. The old connection is refused once,
  // the transport reconnects and the same line goes to the new daemon.
  first.close();
  const second = receiver(path);
  t.teardown(() => second.close());
  transport.send('[2] after restart', 40);
  await until(() => second.messages.length === 1);
  t.same(second.messages, ['<40>[2] after restart']);
  t.equal(transport.losses.total, 2, 'nothing lost across the restart');

  await transport.close();
  transport.send('after close', 30);
  t.equal(transport.losses.total, 3);
});
