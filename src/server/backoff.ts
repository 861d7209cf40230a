// Restarting what died (a worker thread, the engine process) backs off: a crash loop must not
// spin the CPU or flood the log.

/** The wait before the `restarts`-th restart in a row (1 = the first): its delay, or the last one. */
export function restartDelay(delays: readonly [number, ...number[]], restarts: number): number {
  const index = Math.min(Math.max(restarts, 1), delays.length) - 1;
  return delays[index] ?? delays[0];
}
