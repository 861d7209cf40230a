import { C11nError } from '../../src/config/errors';
import { parseConfigText } from '../../src/config/load';
import type { Config } from '../../src/config/types';

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

/** The least c11n that loads: a listener, a maildrop query, an empty accounts database. */
export const MINIMAL_C11N = `listen "pop3" { port = 110 }\nmaildrop_query_format_string = "SELECT maildir FROM m WHERE u = %u"\ndatabase "accounts" { }`;

/** MINIMAL_C11N and then `text`, as /etc/r2d2/c11n with no environment, two cores and no files to include. */
export function parseAfterMinimal(text: string): Config {
  return parseConfigText(`${MINIMAL_C11N}\n${text}`, '/etc/r2d2', {}, 2, (name) => {
    throw new Error(`ENOENT: ${name}`);
  });
}
