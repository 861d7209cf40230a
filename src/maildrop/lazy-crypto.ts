// node:crypto is not in Node's startup snapshot: loading it costs a few milliseconds of CPU,
// which `r2d2 deliver` (one process per message) pays only when a hash or random bytes are
// really needed, never at import.
import type * as Crypto from 'node:crypto';

let loaded: typeof Crypto | undefined;

export function crypto(): typeof Crypto {
  return (loaded ??= require('node:crypto') as typeof Crypto);
}

/** 12 hex digits that differ between calls and processes: for unique names, never for secrets. */
export function uniqueHex(): string {
  const part = (): string => Math.floor(Math.random() * 0x1000000).toString(16).padStart(6, '0');
  return part() + part();
}
