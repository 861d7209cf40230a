// A private Prometheus (Debian's /usr/bin/prometheus) scraping one target every second, on a
// loopback port with its own config and storage under a temp folder; stopped by pid and removed
// at teardown. Queries go through its HTTP API, as Grafana's would.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { freePort } from './ports';
import { PrivateDaemon } from './private-daemon';

export const PROMETHEUS = '/usr/bin/prometheus';
const READY_TIMEOUT_MS = 60_000;

export interface Sample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: number;
}

export class PrometheusInstance {
  private constructor(
    readonly port: number,
    private readonly daemon: PrivateDaemon,
  ) {}

  /** Starts Prometheus scraping `http://<target>/metrics` as job `r2d2`; resolves once it is ready. */
  static async start(t: Test, target: string): Promise<PrometheusInstance> {
    const port = await freePort();
    const daemon = PrivateDaemon.start(t, 'prometheus', (dir) => {
      const config = join(dir, 'prometheus.yml');
      writeFileSync(config, `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: r2d2\n    static_configs:\n      - targets: ['${target}']\n`);
      return [PROMETHEUS, `--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'];
    });
    const instance = new PrometheusInstance(port, daemon);
    await instance.poll(async () => (await fetch(instance.url('/-/ready')).catch(() => undefined))?.ok === true, READY_TIMEOUT_MS, 'Prometheus ready');
    return instance;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** An instant query; throws on a PromQL error (so a dashboard's broken query fails the test). */
  async query(expr: string): Promise<Sample[]> {
    const response = await fetch(this.url(`/api/v1/query?query=${encodeURIComponent(expr)}`));
    const body = (await response.json()) as { status?: string; error?: string; data?: { resultType?: string; result?: unknown } };
    if (body.status !== 'success') throw new Error(`${expr}: ${body.error ?? response.status}`);
    const result = body.data?.result;
    if (body.data?.resultType === 'scalar' && Array.isArray(result)) return [{ metric: {}, value: Number(result[1]) }];
    if (!Array.isArray(result)) return [];
    return result.map((r: { metric: Record<string, string>; value: [number, string] }) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  /** What the target said of a metric family (HELP, TYPE) as Prometheus parsed it. */
  async metadata(family: string): Promise<Array<{ readonly type?: string; readonly help?: string }>> {
    const response = await fetch(this.url(`/api/v1/targets/metadata?metric=${encodeURIComponent(family)}`));
    const body = (await response.json()) as { data?: unknown };
    return Array.isArray(body.data) ? (body.data as Array<{ type?: string; help?: string }>) : [];
  }

  /** The single value of a query that sums to one series; NaN when it returns none. */
  async value(expr: string): Promise<number> {
    const [first] = await this.query(expr);
    return first?.value ?? NaN;
  }

  /** Waits (each scrape is a second apart) until `expr`'s value is `expected`; throws if it never is. */
  async waitForValue(expr: string, expected: number, timeoutMs = 60_000): Promise<void> {
    await this.poll(async () => (await this.value(expr)) === expected, timeoutMs, `${expr} == ${expected}`);
  }

  /**
   * `expr`'s value once it is `expected`, or the last one seen after `timeoutMs`: for checks that
   * should hold at once, but would read nothing for a moment after a scrape that timed out on a
   * loaded machine (Prometheus then marks the target's series stale until the next one).
   */
  async settledValue(expr: string, expected: number, timeoutMs = 10_000): Promise<number> {
    let seen = NaN;
    await this.poll(async () => (seen = await this.value(expr)) === expected, timeoutMs, '').catch(() => undefined);
    return seen;
  }

  /** `expr`'s series, waiting up to `timeoutMs` for some (see settledValue). */
  async settledQuery(expr: string, timeoutMs = 10_000): Promise<Sample[]> {
    let seen: Sample[] = [];
    await this.poll(async () => (seen = await this.query(expr)).length > 0, timeoutMs, '').catch(() => undefined);
    return seen;
  }

  private async poll(ready: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await ready())) {
      if (Date.now() > deadline || this.daemon.child.exitCode !== null) throw new Error(`not seen: ${what}\n${this.daemon.output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
