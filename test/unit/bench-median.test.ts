import t from 'tap';
import { interleaved, median, medianFigures } from '../../bench/report/median';
import { figures, type Figures } from '../../bench/report/stats';

const run = (sessions: number, errors = 0, samples: string[] = []): Figures =>
  figures({
    sessions,
    errors,
    errorSamples: samples,
    errorEvents: [],
    bytes: sessions * 1e6,
    messages: sessions * 50,
    latencies: Float64Array.from([sessions / 10]),
    wallMs: 1000,
    loadCpuMs: 100,
    serverCpuMs: sessions * 2,
    dbCpuMs: 10,
    systemCpuMs: 500,
    machineForks: 0,
    cores: 2,
  });

t.test('median', async (t) => {
  t.equal(median([3, 1, 2]), 2, 'odd count: the middle one');
  t.equal(median([4, 1, 3, 2]), 2.5, 'even count: the mean of the middle two');
  t.equal(median([5, NaN, 1, 3]), 3, 'NaN left out');
  t.ok(Number.isNaN(median([])), 'none: NaN');
});

t.test('medianFigures: each figure its own median, errors added up', async (t) => {
  const m = medianFigures([run(100, 0), run(300, 2, ['boom']), run(200, 1, ['boom', 'bang'])]);
  t.equal(m.sessions, 200);
  t.equal(m.sessionsPerSec, 200);
  t.equal(m.mbPerSec, 200);
  t.equal(m.serverCpuMsPerSession, 2);
  t.equal(m.errors, 3);
  t.same(m.errorSamples, ['boom', 'bang']);
  t.equal(medianFigures([run(7)]).sessions, 7, 'one run: as it is');
  t.throws(() => medianFigures([]));
});

t.test('interleaved: one run of every server, then the next run', async (t) => {
  const order = interleaved(['r2d2', 'dovecot', 'ceiling'], 2).map((x) => `${x.server}${x.run}`);
  t.same(order, ['r2d20', 'dovecot0', 'ceiling0', 'r2d21', 'dovecot1', 'ceiling1']);
  t.same(interleaved(['a'], 0), []);
});
