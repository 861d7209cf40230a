// The c11n `metrics` section, the Accept header's choice of format, and the sums over threads
// (OpenMetrics counter names; a dead worker's counters kept, its gauges dropped).
import t from 'tap';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Config } from '../../src/config/types';
import { wantsOpenMetrics } from '../../src/server/metrics/accept';
import { render, retire } from '../../src/server/metrics/aggregate';
import { failure as c11nFailure, parseAfterMinimal } from '../helpers/c11n';

const config = (text: string): Config => parseAfterMinimal(text);
const failure = (text: string): string => c11nFailure(() => config(text));

t.test('metrics { }: off without the section, loopback by default', async (t) => {
  t.equal(config('').metrics, undefined, 'no section: no endpoint');
  t.same(config('metrics { port = 9900 }').metrics, { address: '127.0.0.1', port: 9900 });
  t.same(config('metrics { address = "::"  port = 9900 }').metrics, { address: '::', port: 9900 });
});

t.test('mistakes are reported where they were written', async (t) => {
  t.equal(failure('metrics { }'), 'c11n:4:1: missing required "port" in section "metrics" (Dovecot uses 9900)');
  t.equal(failure('metrics { port = 70000 }'), 'c11n:4:18: "port" must be between 0 and 65535, got 70000');
  t.equal(failure('metrics { port = 110  address = "0.0.0.0" }'), 'c11n:4:18: metrics and listen "pop3" cannot share: it uses 0.0.0.0:110 too');
  t.equal(failure('listen "(metrics)" { port = 111 }\nmetrics { port = 9900 }'), 'c11n:5:18: metrics and listen "(metrics)" cannot share: the name "(metrics)" is reserved');
  t.equal(failure('metrics { path = "/m" }'), 'c11n:4:11: unknown key "path" in section "metrics"');
});

t.test('OpenMetrics when the scraper prefers it, the text format otherwise', async (t) => {
  t.equal(wantsOpenMetrics(undefined), false, 'curl');
  t.equal(wantsOpenMetrics('*/*'), false);
  t.equal(wantsOpenMetrics('application/openmetrics-text; version=1.0.0; charset=utf-8'), true);
  t.equal(
    wantsOpenMetrics('application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'),
    true,
    "Prometheus' own header",
  );
  t.equal(wantsOpenMetrics('text/plain;version=0.0.4;q=1,application/openmetrics-text;q=0.5'), false, 'text/plain preferred');
  t.equal(wantsOpenMetrics('application/openmetrics-text;q=0'), false, 'q=0 refuses');
});

/** One thread's registry, as a worker's would be. */
async function thread(logins: number, lag: number, thread: string, seconds: number[]) {
  const registry = new Registry();
  const registers = [registry];
  new Counter({ name: 'r2d2_logins_total', help: 'Logins.', labelNames: ['result'], registers }).inc({ result: 'ok' }, logins);
  new Gauge({ name: 'r2d2_sessions_active', help: 'Sessions.', registers }).set(logins);
  new Gauge({ name: 'r2d2_event_loop_lag_seconds', help: 'Lag.', labelNames: ['thread'], registers }).set({ thread }, lag);
  const h = new Histogram({ name: 'r2d2_login_seconds', help: 'Login time.', buckets: [0.1, 1], registers });
  for (const s of seconds) h.observe(s);
  return registry.getMetricsAsJSON();
}

t.test('threads are summed; only the lag keeps a thread label', async (t) => {
  const sources = [await thread(3, 0.01, '0', [0.05]), await thread(4, 0.02, '1', [0.5, 2])];
  const text = (await render(sources, false)).body;
  t.match(text, /^r2d2_logins_total\{result="ok"\} 7$/m);
  t.match(text, /^r2d2_sessions_active 7$/m);
  t.match(text, /^r2d2_event_loop_lag_seconds\{thread="0"\} 0.01$/m);
  t.match(text, /^r2d2_event_loop_lag_seconds\{thread="1"\} 0.02$/m);
  t.match(text, /^r2d2_login_seconds_bucket\{le="0.1"\} 1$/m);
  t.match(text, /^r2d2_login_seconds_bucket\{le="1"\} 2$/m);
  t.match(text, /^r2d2_login_seconds_count 3$/m);
  const open = await render(sources, true);
  t.equal(open.contentType, 'application/openmetrics-text; version=1.0.0; charset=utf-8');
  t.match(open.body, /^# TYPE r2d2_logins counter\nr2d2_logins_total\{result="ok"\} 7$/m, 'OpenMetrics: the family without _total, the sample with it');
  t.notMatch(open.body, /_total_total/);
  t.match(open.body, /\n# EOF\n$/);
});

t.test("a dead worker's counters and histograms stay in the sums; its gauges go", async (t) => {
  const gone = await thread(3, 0.01, '0', [0.05]);
  const replacement = await thread(1, 0.03, '0', [0.5]);
  const retired = await retire(await retire([], gone), await thread(2, 0.5, '9', []));
  const text = (await render([retired, replacement], false)).body;
  t.match(text, /^r2d2_logins_total\{result="ok"\} 6$/m, '3 + 2 retired, 1 from the replacement');
  t.match(text, /^r2d2_login_seconds_count 2$/m);
  t.match(text, /^r2d2_sessions_active 1$/m, 'only the live worker');
  t.notMatch(text, /thread="9"/, "a dead thread's lag is gone");
});
