import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares in time that depends on neither value: both are hashed to the same length first,
 * so not even a length difference shows.
 */
export function constantTimeEqual(a: Buffer | string, b: Buffer | string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}

/** Thrown by a verifier for a stored value it cannot read: refused and logged, never a match. */
export class MalformedHash extends Error {}
