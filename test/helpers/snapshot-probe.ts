// Telling a login that scanned its maildrop from one that reused a cached snapshot, through
// STAT alone: a message whose name carries no size is sized by reading it at each scan, and
// growing it in place changes no folder.
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TRUST_AFTER_MS } from '../../src/maildrop/snapshot-cache';

/** Octets one grow() adds to STAT's total. */
export const GROWN_OCTETS = 'more\r\n'.length;

/** Writes an unsized message into cur/, dated to sort last; grow() appends a line to it in place. */
export function unsizedMessage(md: string): { grow(): void } {
  const path = join(md, 'cur', '9999999999.M1P1Q1.host:2,S');
  writeFileSync(path, 'Subject: unsized\n\nx\n');
  return { grow: () => appendFileSync(path, 'more\n') };
}

/** Waits until folders changed before now are trusted: only then is a snapshot kept. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, TRUST_AFTER_MS + 200));
}
