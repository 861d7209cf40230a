// Small helpers shared by the maildrop store functions.

/** The `code` of a Node system error (`ENOENT`, ...), or undefined for anything else. */
export function errnoCode(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null || !('code' in e)) return undefined;
  return typeof e.code === 'string' ? e.code : undefined;
}

/**
 * Runs `fn` over `items` with at most `limit` calls in flight (to stay far from EMFILE on
 * maildrops of 50,000 files). The first rejection stops new calls and is rethrown once the
 * calls in flight have settled.
 */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  const queue = items.values(); // shared by the workers: each item is taken once
  let failed = false;
  const worker = async (): Promise<void> => {
    for (const item of queue) {
      if (failed) return;
      try {
        await fn(item);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  const workers = Array.from({ length: Math.min(limit, items.length) }, worker);
  const settled = await Promise.allSettled(workers);
  for (const s of settled) if (s.status === 'rejected') throw s.reason;
}
