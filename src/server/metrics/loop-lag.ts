// Event-loop lag of one thread (a worker or the engine's main thread), with a `thread` label:
// the one figure where threads are told apart, since one busy thread delays all its sessions.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Gauge, type Registry } from 'prom-client';

/** How often the loop is sampled (ms): often enough to see a 50 ms stall, cheap enough to leave on. */
const RESOLUTION_MS = 20;

/** Registers the lag gauges of the calling thread; each scrape reads the delays since the previous one. */
export function watchLoopLag(registry: Registry, thread: string): void {
  const delays = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  delays.enable();
  let p99 = 0;
  let max = 0;
  // One collect reads both figures and starts the next window; the max gauge is read right after.
  new Gauge({
    name: 'r2d2_event_loop_lag_seconds',
    help: 'Event-loop delay of one thread, 99th percentile since the previous scrape.',
    labelNames: ['thread'],
    registers: [registry],
    collect() {
      const seen = delays.count > 0;
      p99 = seen ? Math.max(0, delays.percentile(99) / 1e9 - RESOLUTION_MS / 1000) : 0;
      max = seen ? Math.max(0, delays.max / 1e9 - RESOLUTION_MS / 1000) : 0;
      delays.reset();
      this.set({ thread }, p99);
    },
  });
  new Gauge({
    name: 'r2d2_event_loop_lag_max_seconds',
    help: 'Event-loop delay of one thread, the longest since the previous scrape.',
    labelNames: ['thread'],
    registers: [registry],
    collect() {
      this.set({ thread }, max);
    },
  });
}
