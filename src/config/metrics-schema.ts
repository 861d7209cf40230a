// The c11n `metrics { address  port }` section: where the Prometheus/OpenMetrics endpoint listens.
// Declared here and plugged into r2d2-schema.ts (one key, one line in toConfig).
import { C11nError } from './errors';
import { here, int, section, str, where } from './schema';
import type { ListenerConfig, MetricsConfig } from './types';

/**
 * The name the metrics socket travels under between the supervisor, its binder and the engine,
 * beside the listeners' names: no `listen` section may take it.
 */
export const METRICS_ENDPOINT = '(metrics)';

export const metricsSchema = section({
  // Loopback by default: the figures are for the operator's Prometheus, not for the Internet.
  address: str()
    .check((s) => (s === '' ? 'must not be empty' : undefined))
    .default('127.0.0.1'),
  // Required when the section is there (checked below); 0 asks the system for a free port (tests).
  port: int({ min: 0, max: 65535 }),
});

type MetricsDoc = ReturnType<(typeof metricsSchema)['body']>;

/** The section as a MetricsConfig; undefined when the personality has none (no endpoint, no cost). */
export function toMetricsConfig(doc: MetricsDoc, present: boolean, listeners: readonly ListenerConfig[]): MetricsConfig | undefined {
  if (!present) return undefined;
  if (doc.port === undefined) throw C11nError.at(here(doc), 'missing required "port" in section "metrics" (Dovecot uses 9900)');
  const clash = listeners.find((l) => l.name === METRICS_ENDPOINT || (doc.port !== 0 && l.port === doc.port && l.address === doc.address));
  if (clash !== undefined) {
    const what = clash.name === METRICS_ENDPOINT ? `the name "${METRICS_ENDPOINT}" is reserved` : `it uses ${doc.address}:${doc.port} too`;
    throw C11nError.at(where(doc, 'port') ?? here(doc), `metrics and listen "${clash.name}" cannot share: ${what}`);
  }
  return { address: doc.address, port: doc.port };
}
