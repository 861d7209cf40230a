// Which unique-id each listed message is served with, once an imported-UIDL index is read
// (uidl-index.ts). RFC 1939 §7: two messages of a maildrop never share one.
import { displacedUidl } from './name';

export interface Assigned {
  /** Messages served an imported unique-id. */
  readonly imported: number;
  /** Messages whose own unique-id an imported one of another message took: served a hash of it. */
  readonly displaced: number;
}

/**
 * Replaces each message's own unique-id (`uidl`) by the imported one its index entry names.
 * `messages` must be in listing order: when two messages claim one imported unique-id (a damaged
 * index), the first keeps it and the other keeps its own. A message serving its own unique-id that
 * equals another message's imported one gets displacedUidl() instead: clients saw the imported
 * one on the server it came from, so it stays with its message. The import never writes such
 * entries; a later delivery or a hand-edited index can cause them.
 */
export function assignImportedUidls(messages: Array<{ uidl: string }>, entries: ReadonlyMap<string, string>): Assigned {
  if (entries.size === 0) return { imported: 0, displaced: 0 };
  const claimed = new Set<string>();
  const servedImported = new Uint8Array(messages.length);
  messages.forEach((m, i) => {
    const value = entries.get(m.uidl);
    if (value === undefined || claimed.has(value)) return;
    claimed.add(value);
    m.uidl = value;
    servedImported[i] = 1;
  });
  let displaced = 0;
  messages.forEach((m, i) => {
    if (servedImported[i] === 1 || !claimed.has(m.uidl)) return;
    m.uidl = displacedUidl(m.uidl);
    displaced++;
  });
  return { imported: claimed.size, displaced };
}
