// A worker's syslog lines reach the main thread a turn at a time: one message per turn, every
// line in order, and a message that cannot be posted counts each of its lines as lost.
import t from 'tap';
import { deliverForwarded, forwardTransport } from '../../src/log/forward';
import { SinkTransport } from '../../src/log/transport';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

t.test("one message per turn, the turn's lines in order", async (t) => {
  const posted: unknown[] = [];
  const forward = forwardTransport({ postMessage: (value) => posted.push(value) });
  forward.send('[1] login ok', 30);
  forward.send('[2] login ok', 30);
  forward.send('[1] disconnected', 40);
  t.equal(posted.length, 0, 'held until the turn ends');
  await turn();
  t.equal(posted.length, 1);
  forward.send('[3] later', 30);
  await turn();
  t.equal(posted.length, 2);
  const lines: string[] = [];
  const main = new SinkTransport('tag[1]: ', (line, level) => lines.push(`${level} ${line}`));
  for (const message of posted) t.ok(deliverForwarded(main, message));
  t.same(lines, ['30 tag[1]: [1] login ok', '30 tag[1]: [2] login ok', '40 tag[1]: [1] disconnected', '30 tag[1]: [3] later']);
  t.notOk(deliverForwarded(main, { other: 1 }), 'other messages are not');
});

t.test('close() posts what is held; a failed post loses its lines, counted', async (t) => {
  const posted: unknown[] = [];
  const forward = forwardTransport({ postMessage: (value) => posted.push(value) });
  forward.send('[1] x', 30);
  await forward.close();
  t.equal(posted.length, 1, 'posted at close');
  const broken = forwardTransport({
    postMessage: () => {
      throw new Error('port closed');
    },
  });
  broken.send('[1] a', 30);
  broken.send('[1] b', 30);
  await turn();
  t.equal(broken.losses.total, 2);
});
