// What `r2d2 maildir import-uidls` writes into r2d2-uidls, decided from the messages present, the
// unique-ids the old server served them with, and the index an earlier import left. Pure.
import { assignImportedUidls } from '../maildrop/uidl-assign';
import { UIDL_PATTERN } from '../maildrop/uidl-index';

export interface Listed {
  readonly dir: 'new' | 'cur';
  readonly file: string;
  /** r2d2's own unique-id of the message (parseMaildirName), the index key. */
  readonly native: string;
}

export type Outcome =
  /** Served the old server's unique-id from now on (`earlier`: as an earlier import already said). */
  | { readonly kind: 'imported'; readonly uidl: string; readonly earlier: boolean }
  /** The old server's unique-id is r2d2's own one: nothing to store. */
  | { readonly kind: 'already' }
  /** The old server never listed it (delivered since), or its unique-id is unknown. */
  | { readonly kind: 'not-found'; readonly keptEarlier: string | undefined }
  /** Not an RFC 1939 unique-id (1-70 characters 0x21-0x7E): r2d2 cannot serve it. */
  | { readonly kind: 'invalid'; readonly uidl: string }
  /** Another message has that unique-id (it keeps it: the first in listing order). */
  | { readonly kind: 'conflict'; readonly uidl: string; readonly holder: string };

export interface Plan {
  /** The index to write: r2d2's unique-id -> the one served. */
  readonly entries: ReadonlyMap<string, string>;
  readonly outcomes: ReadonlyArray<{ readonly message: Listed; readonly outcome: Outcome }>;
  /** Messages whose own unique-id an imported one of another message takes: served a hash of it (uidl-assign.ts). */
  readonly displaced: readonly Listed[];
}

/**
 * `foreign`: the unique-id the old server served, by r2d2 unique-id (absent: not found).
 * `earlier`: the entries of the index already there. An earlier entry stays when the old server
 * does not know the message now; a new value replaces it.
 */
export function planIndex(messages: readonly Listed[], foreign: ReadonlyMap<string, string>, earlier: ReadonlyMap<string, string>): Plan {
  const wanted = new Map<string, string>();
  const outcome = new Map<string, Outcome>();
  for (const m of messages) {
    const value = foreign.get(m.native);
    const before = earlier.get(m.native);
    if (value === undefined) {
      if (before !== undefined) wanted.set(m.native, before);
      outcome.set(m.native, { kind: 'not-found', keptEarlier: before });
    } else if (!UIDL_PATTERN.test(value)) {
      if (before !== undefined) wanted.set(m.native, before);
      outcome.set(m.native, { kind: 'invalid', uidl: value });
    } else if (value === m.native) {
      outcome.set(m.native, { kind: 'already' });
    } else {
      wanted.set(m.native, value);
      outcome.set(m.native, { kind: 'imported', uidl: value, earlier: before === value });
    }
  }

  // The serving rule itself decides who keeps a unique-id claimed twice (uidl-assign.ts).
  const served = messages.map((m) => ({ uidl: m.native }));
  assignImportedUidls(served, wanted);
  const entries = new Map<string, string>();
  const holders = new Map<string, string>();
  messages.forEach((m, i) => {
    const value = wanted.get(m.native);
    if (value !== undefined && served[i]?.uidl === value) {
      entries.set(m.native, value);
      holders.set(value, `${m.dir}/${m.file}`);
    }
  });
  const displaced: Listed[] = [];
  messages.forEach((m, i) => {
    const value = wanted.get(m.native);
    const got = served[i]?.uidl;
    if (value !== undefined && got !== value && outcome.get(m.native)?.kind === 'imported') {
      outcome.set(m.native, { kind: 'conflict', uidl: value, holder: holders.get(value) ?? '?' });
    }
    if (got !== value && got !== m.native) displaced.push(m);
  });
  return { entries, outcomes: messages.map((m) => ({ message: m, outcome: outcome.get(m.native) ?? { kind: 'not-found', keptEarlier: undefined } })), displaced };
}
