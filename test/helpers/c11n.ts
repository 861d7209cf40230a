import { C11nError } from '../../src/config/errors';

/** The message of the C11nError that `fn` throws; anything else fails the test. */
export function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (err: unknown) {
    if (err instanceof C11nError) return err.message;
    throw err;
  }
  throw new Error('expected a C11nError');
}
