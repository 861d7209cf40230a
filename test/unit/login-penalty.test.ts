import t from 'tap';
import { Worker } from 'node:worker_threads';
import { foldLogin } from '../../src/accounts/fold-login';
import { PenaltyPolicy } from '../../src/server/login-penalty';
import { FadingCounts, PerWorkerCounts } from '../../src/server/shared-tables';

const policy = (): PenaltyPolicy => new PenaltyPolicy(new FadingCounts(FadingCounts.buffer(256), 900), 1000, 60_000);

t.test('names the collation treats as one account are one name to the counters', async (t) => {
  t.same(['bob', 'BOB', 'bób', 'BÖB', 'bob ', 'ｂｏｂ'].map(foldLogin), ['bob', 'bob', 'bob', 'bob', 'bob', 'bob']);
  t.not(foldLogin(' bob'), 'bob', 'leading spaces count (PAD SPACE trims only the end)');
  const p = policy();
  // Each from its own address: only the name's count can escalate.
  const waits = ['bob', 'bób', 'BÖB', 'bob '].map((name, i) => p.failed(`192.0.2.${i}`, name, `guess${i}`));
  t.same(waits, [1000, 2000, 4000, 8000]);
});

t.test("a success clears the account's count, not the address's", async (t) => {
  const p = policy();
  for (let i = 0; i < 3; i++) p.failed('198.51.100.1', `victim${i}`, 'x');
  p.succeeded('attacker-own-account');
  t.equal(p.failed('198.51.100.1', 'victim9', 'y'), 8000, 'the address keeps escalating');
  p.failed('203.0.113.5', 'carol', 'a');
  p.succeeded('carol');
  t.equal(p.failed('203.0.113.6', 'carol', 'b'), 1000, "the account's own count starts again");
});

t.test('per-address slots are taken atomically across threads: never more than the limit', async (t) => {
  const buffer = PerWorkerCounts.buffer(64, 4);
  const max = 2; // four threads each holding one at most: a check-then-add could reach 4
  const script = `
    const { workerData, parentPort } = require('node:worker_threads');
    const { PerWorkerCounts } = require(workerData.module);
    const table = new PerWorkerCounts(workerData.buffer, 4);
    // cells[0]: sessions admitted and not yet gone; cells[1]: the most seen at once. (The table's
    // own count may pass the limit for an instant: an adder that is over takes its one back.)
    const cells = new Int32Array(workerData.peak);
    for (let i = 0; i < 20000; i++) {
      if (table.tryAdd('192.0.2.1', workerData.slot, ${max})) {
        const now = Atomics.add(cells, 0, 1) + 1;
        if (now > Atomics.load(cells, 1)) Atomics.store(cells, 1, now);
        Atomics.sub(cells, 0, 1);
        table.remove('192.0.2.1', workerData.slot);
      }
    }
    parentPort.postMessage('done');`;
  const peak = new SharedArrayBuffer(8);
  const module = require.resolve('../../src/server/shared-tables');
  await Promise.all(
    [0, 1, 2, 3].map(
      (slot) =>
        new Promise<void>((resolve, reject) => {
          const w = new Worker(script, { eval: true, workerData: { buffer, slot, module, peak } });
          w.once('message', () => void w.terminate().then(() => resolve()));
          w.once('error', reject);
        }),
    ),
  );
  const most = new Int32Array(peak)[1] ?? 0;
  t.ok(most >= 1 && most <= max, `at most ${max} admitted at once (${most})`);
});
