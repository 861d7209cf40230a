// The engine process's own figures (all its threads together), read at each scrape. prom-client's
// collectDefaultMetrics is not used: its heap and event-loop series describe the calling thread
// alone, which in the engine's main thread would pass for the whole server.
import { readdirSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { Gauge, type Registry } from 'prom-client';
import { countedSource } from './counted-source';

export function watchProcess(registry: Registry): void {
  const registers = [registry];
  countedSource(registry, 'process_cpu_seconds_total', 'CPU time of the engine process (every thread), user and system, in seconds.', () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1e6;
  });
  new Gauge({ name: 'process_resident_memory_bytes', help: 'Resident memory of the engine process.', registers, collect() { this.set(process.memoryUsage.rss()); } });
  const started = Date.now() / 1000 - process.uptime();
  new Gauge({ name: 'process_start_time_seconds', help: 'When the engine process started, in seconds since the epoch.', registers, collect() { this.set(Math.round(started)); } });
  new Gauge({ name: 'process_open_fds', help: 'Open file descriptors of the engine process.', registers, collect() { this.set(openFds()); } });
  new Gauge({ name: 'r2d2_heap_used_bytes', help: 'JavaScript heap in use, every thread of the engine together.', registers, collect() { this.set(getHeapStatistics().used_heap_size); } });
}

function openFds(): number {
  try {
    return readdirSync('/proc/self/fd').length - 1; // the listing's own descriptor
  } catch {
    return 0;
  }
}
