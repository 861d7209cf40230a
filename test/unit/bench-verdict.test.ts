import t from 'tap';
import { maildrop, wireBody } from '../../bench/ceiling/wire';
import type { Figures } from '../../bench/report/stats';
import { ROWS, rowResult, type RowSpec } from '../../bench/rows';

const spec = (id: string): RowSpec => {
  const s = ROWS.find((r) => r.id === id);
  if (s === undefined) throw new Error(id);
  return s;
};
const side = (x: Partial<Figures>): Figures => ({
  sessions: 100, errors: 0, errorSamples: [], wallMs: 1000, sessionsPerSec: 100, messagesPerSec: 0, mbPerSec: 0, p50Ms: 1, p99Ms: 2,
  serverCpuMsPerSession: 1, dbCpuMsPerSession: 0, serverCpuShare: 0, loadCpuShare: 0, otherCpuShare: 0, machineForks: 0, ...x,
});

t.test('retrieve plain: ahead of Dovecot and near the ceiling, both', async (t) => {
  const s = spec('retrieve-plain');
  const met = rowResult(s, side({ mbPerSec: 450 }), side({ mbPerSec: 400 }), side({ mbPerSec: 500 }));
  t.equal(met.ratio, 1.125);
  t.same(met.ofCeiling, { r2d2: 0.9, dovecot: 0.8 });
  t.equal(met.met, true);
  const farFromCeiling = rowResult(s, side({ mbPerSec: 450 }), side({ mbPerSec: 400 }), side({ mbPerSec: 600 }));
  t.equal(farFromCeiling.met, false, '0.75 of the ceiling');
  t.equal(rowResult(s, side({ mbPerSec: 450 }), side({ mbPerSec: 400 }), { pending: 'x' }).met, undefined, 'no ceiling: no verdict');
});

t.test('login plain: sessions/s and CPU per session, both', async (t) => {
  const s = spec('login-plain');
  t.equal(rowResult(s, side({ sessionsPerSec: 1600, serverCpuMsPerSession: 0.4 }), side({ sessionsPerSec: 1000, serverCpuMsPerSession: 1 })).met, true);
  const costly = rowResult(s, side({ sessionsPerSec: 1600, serverCpuMsPerSession: 0.6 }), side({ sessionsPerSec: 1000, serverCpuMsPerSession: 1 }));
  t.equal(costly.cpuRatio, 0.6);
  t.equal(costly.met, false);
  t.equal(rowResult(s, side({ sessionsPerSec: 1600, serverCpuMsPerSession: 0.4, errors: 1 }), side({ sessionsPerSec: 1000 })).met, false, 'r2d2 errors');
});

t.test('wire form: CRLF, dot-stuffing, a last line without LF', async (t) => {
  t.equal(wireBody(Buffer.from('a\n.b\r\n\nc')).toString(), 'a\r\n..b\r\n\r\nc\r\n');
  const drop = maildrop([Buffer.from('x\n'), Buffer.from('.\n')], ['u1', 'u2']);
  t.equal(drop.stat.toString(), '+OK 2 7\r\n');
  t.equal(drop.retr[1]?.toString(), '+OK 4 octets\r\n..\r\n.\r\n');
  t.equal(drop.uidl.toString(), '+OK\r\n1 u1\r\n2 u2\r\n.\r\n');
});
