// A counter fed from a running total kept elsewhere (a logger's lost lines), read at each scrape.
import { Counter, type Registry } from 'prom-client';

/**
 * Registers `name` as a counter that follows `total()`. A total that went down (its source was
 * replaced, say a logger reopened on SIGHUP) counts from zero again: the counter never decreases.
 */
export function countedSource(registry: Registry, name: string, help: string, total: () => number): void {
  let last = 0;
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const now = total();
      const added = now >= last ? now - last : now;
      last = now;
      if (added > 0) this.inc(added);
    },
  });
}
