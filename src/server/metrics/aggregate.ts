// Summing the threads' figures (prom-client's AggregatorRegistry: counters and gauges summed,
// histograms bucket by bucket) and writing them in the format the scraper asked for.
import { AggregatorRegistry, Registry, type OpenMetricsContentType, type PrometheusContentType } from 'prom-client';
import type { MetricsSnapshot } from './worker-metrics';

export interface Rendered {
  readonly contentType: string;
  readonly body: string;
}

const isCounter = (metric: MetricsSnapshot[number]): boolean => String(metric.type) === 'counter';

/** The sum of every source, as Prometheus text (0.0.4) or OpenMetrics 1.0.0. */
export async function render(sources: readonly MetricsSnapshot[], openMetrics: boolean): Promise<Rendered> {
  if (!openMetrics) {
    const registry = AggregatorRegistry.aggregate<PrometheusContentType>([...sources]);
    return { contentType: Registry.PROMETHEUS_CONTENT_TYPE, body: await registry.metrics() };
  }
  // OpenMetrics names a counter's family without `_total` and its sample with it. prom-client's
  // aggregated registry would write `r2d2_x_total_total` (it renames a wrapper, then reads the
  // original name back): the family names go in without `_total` instead.
  const families = sources.map((source) => source.map((metric) => (isCounter(metric) ? { ...metric, name: metric.name.replace(/_total$/, '') } : metric)));
  const registry = AggregatorRegistry.aggregate<OpenMetricsContentType>(families);
  registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  return { contentType: Registry.OPENMETRICS_CONTENT_TYPE, body: await registry.metrics() };
}

/**
 * Adds a dead worker's last counters and histograms to those of the workers gone before, so
 * that the sums never go down when a worker is replaced (Prometheus would read a reset). Its
 * gauges go: its sessions and connections went with it.
 */
export async function retire(retired: MetricsSnapshot, gone: MetricsSnapshot): Promise<MetricsSnapshot> {
  const kept = gone.filter((metric) => isCounter(metric) || String(metric.type) === 'histogram');
  return AggregatorRegistry.aggregate([retired, kept]).getMetricsAsJSON();
}
