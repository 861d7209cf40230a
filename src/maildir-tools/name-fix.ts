// What `r2d2 maildir check` finds wrong with a name, and what `fix` renames it to. Pure.
//
// A new name is accepted only if parseMaildirName reads from it exactly the message's real size
// and exactly the unique-id the old name gave (what POP3 clients have already seen). Tried in
// this order, the first that passes wins:
//   1. the Z field the name already has, with the right digits (a wrong size);
//   2. a Z field added at the end of the unique part -- `1700000000.M1P2.host,S=9` becomes
//      `1700000000.M1P2Z1A.host,S=9`, whose unique-id is still the old base;
//   3. a carried unique-id: `<time>.Z<HEX>.~<old unique-id>` (src/maildrop/name.ts), for names
//      whose unique-id the cut rule cannot keep -- hashed ones (bases over 70 characters or not
//      printable ASCII), names without two dots, names with several Z fields;
//   4. only with --new-uidl: a fresh r2d2 name (the message's unique-id changes: clients that
//      leave mail on the server fetch it once more).
// `<time>` is the old name's leading seconds, so the message keeps its place in the listing.
import { MAX_UNIQUE_NAME_LENGTH, parseMaildirName } from '../maildrop/name';
import { uniqueName } from '../deliver/unique-name';

export type Problem = 'no-size' | 'wrong-size' | 'too-long' | 'not-ascii' | 'not-utf8';

export const PROBLEM_TEXT: Record<Problem, string> = {
  'no-size': 'no Z size in the name',
  'wrong-size': 'wrong Z size in the name',
  'too-long': 'name longer than 70 characters before ":"',
  'not-ascii': 'name is not printable ASCII',
  'not-utf8': 'name is not UTF-8 (r2d2 cannot serve it)',
};

const PRINTABLE = /^[\x21-\x7e]+$/;

/** The problem with `name` given the message's real rfc822 size, or undefined when r2d2 can use it. */
export function problemOf(name: string, realSize: number | undefined): Problem | undefined {
  if (name.includes('\uFFFD')) return 'not-utf8';
  const { base, size } = parseMaildirName(name);
  if (size !== undefined) return realSize === undefined || size === realSize ? undefined : 'wrong-size';
  if (base.length > MAX_UNIQUE_NAME_LENGTH) return 'too-long';
  if (!PRINTABLE.test(base)) return 'not-ascii';
  return 'no-size';
}

export type Plan =
  | { readonly kind: 'rename'; readonly name: string; readonly keepsUidl: boolean }
  | { readonly kind: 'keep'; readonly why: string };

export interface PlanOptions {
  /** Seconds for `<time>` when the old name does not start with them (the file's mtime). */
  readonly mtimeSeconds: number;
  /** Is this name (with its info part) already used in the same directory? */
  readonly taken: (name: string) => boolean;
  /** Allow step 4. */
  readonly newUidl: boolean;
  /** Host for fresh names (tests). */
  readonly host?: string;
}

/** The new name for a message whose name r2d2 cannot use (see the steps above). */
export function planRename(name: string, realSize: number, options: PlanOptions): Plan {
  const colon = name.indexOf(':');
  const base = colon < 0 ? name : name.slice(0, colon);
  const info = colon < 0 ? '' : name.slice(colon);
  const hex = realSize.toString(16).toUpperCase();
  const time = timeField(base) ?? String(options.mtimeSeconds);

  if (name.includes('\uFFFD')) {
    // Never served (scan skips such names), so no client has seen a unique-id to keep.
    const fresh = freshName(realSize, time, options.host);
    return { kind: 'rename', name: fresh + (PRINTABLE.test(info) || info === '' ? info : ':2,'), keepsUidl: true };
  }

  const uidl = parseMaildirName(name).uidl;
  const fits = (candidate: string): boolean => {
    if (candidate.length > MAX_UNIQUE_NAME_LENGTH || candidate === base) return false;
    const parsed = parseMaildirName(candidate + info);
    return parsed.size === realSize && parsed.uidl === uidl && !options.taken(candidate + info);
  };

  for (const candidate of [...withZReplaced(base, hex), ...withZAdded(base, hex)]) {
    if (fits(candidate)) return { kind: 'rename', name: candidate + info, keepsUidl: true };
  }
  for (let n = 0; n < 100; n++) {
    const candidate = `${time}.${n === 0 ? '' : `Q${n}`}Z${hex}.~${uidl}`;
    if (candidate.length > MAX_UNIQUE_NAME_LENGTH) break;
    if (fits(candidate)) return { kind: 'rename', name: candidate + info, keepsUidl: true };
  }
  if (options.newUidl) return { kind: 'rename', name: freshName(realSize, time, options.host) + info, keepsUidl: false };
  return { kind: 'keep', why: `no name of at most 70 characters can carry both the size and the unique-id ${uidl} (${uidl.length} characters); served by reading the file, or rename with --new-uidl` };
}

/** The digits before the first `.`, when the name starts with them. */
function timeField(base: string): string | undefined {
  const m = /^(\d{1,12})\./.exec(base);
  return m?.[1];
}

/** Bounds of the unique part (between the first and second dot), or undefined. */
function uniquePart(base: string): { start: number; end: number } | undefined {
  const first = base.indexOf('.');
  if (first <= 0) return undefined;
  const end = base.indexOf('.', first + 1);
  return end === -1 ? undefined : { start: first + 1, end };
}

/** Each `Z<hex digits>` run of the unique part, given the right digits. */
function withZReplaced(base: string, hex: string): string[] {
  const part = uniquePart(base);
  if (part === undefined) return [];
  const out: string[] = [];
  const re = /Z[0-9A-F]+/g;
  const unique = base.slice(part.start, part.end);
  for (let m = re.exec(unique); m !== null; m = re.exec(unique)) {
    const at = part.start + m.index;
    out.push(base.slice(0, at) + 'Z' + hex + base.slice(at + m[0].length));
  }
  return out;
}

/** `Z<HEX>` added at the end of the unique part. */
function withZAdded(base: string, hex: string): string[] {
  const part = uniquePart(base);
  return part === undefined ? [] : [base.slice(0, part.end) + 'Z' + hex + base.slice(part.end)];
}

/** A fresh r2d2 name whose leading seconds are `time` (the message keeps its place). */
function freshName(size: number, time: string, host?: string): string {
  const fresh = host === undefined ? uniqueName(size) : uniqueName(size, process.hrtime.bigint(), host);
  const dot = fresh.indexOf('.');
  const name = time + fresh.slice(dot);
  return name.length <= MAX_UNIQUE_NAME_LENGTH ? name : fresh;
}
