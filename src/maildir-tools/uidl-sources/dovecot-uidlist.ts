// Dovecot's `dovecot-uidlist` (src/lib-storage/index/maildir/maildir-uidlist.c), read the way
// Dovecot 2.3 reads it, so that the UIDs found here are the ones its POP3 server numbered by:
//
//   version 1 (Dovecot 1.0, and Courier IMAP's courierimapuiddb):
//     1 <uidvalidity> <nextuid>
//     <uid> <filename>
//   version 3 (Dovecot 1.1 and later):
//     3 V<uidvalidity> N<nextuid> G<mailbox guid> [<key><value> ...]
//     <uid> [<key><value> ...] :<filename>
//
// Record fields: S physical size, W virtual (rfc822) size, P the POP3 UIDL saved for the
// message (pop3_save_uidl, or a migration: it overrides pop3_uidl_format; empty = the base
// name), O the POP3 order, G the message GUID. A file Dovecot would call corrupted (a
// version it does not know, UIDs out of order, a filename with `/`) is refused, line named:
// Dovecot rebuilds such a file and numbers the messages anew, so its UIDs are not what
// clients saw.

export interface UidlistRecord {
  readonly uid: number;
  /** The filename as recorded, up to the first `:` (the flags change; the base does not). */
  readonly base: string;
  /** Extension fields by key letter (S, W, P, O, G). */
  readonly fields: ReadonlyMap<string, string>;
}

export interface Uidlist {
  readonly version: 1 | 3;
  readonly uidValidity: number;
  readonly nextUid: number;
  readonly records: readonly UidlistRecord[];
}

export class UidlistError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'UidlistError';
  }
}

/** Record keys Dovecot 2.3 knows (MAILDIR_UIDLIST_REC_EXT_KEY_IS_VALID); others make it rebuild the file. */
const RECORD_KEYS = new Set(['S', 'W', 'P', 'O', 'G']);
const UINT32_MAX = 0xffffffff;
const DECIMAL = /^[0-9]+$/;

/** Parses the whole file. Throws UidlistError for what Dovecot would refuse. */
export function parseUidlist(text: string): Uidlist {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const header = lines[0];
  if (header === undefined) throw new UidlistError(1, 'empty file');
  const { version, uidValidity, nextUid } = parseHeader(header);
  const byBase = new Map<string, UidlistRecord>();
  let previous = 0;
  for (let i = 1; i < lines.length; i++) {
    const record = parseRecord(lines[i] ?? '', version, i + 1);
    if (record.uid <= previous) throw new UidlistError(i + 1, `UIDs not ordered (${record.uid} after ${previous})`);
    if (version === 1 && record.uid >= nextUid) throw new UidlistError(i + 1, `UID ${record.uid} not below the next UID ${nextUid}`);
    previous = record.uid;
    byBase.delete(record.base); // a file listed again (moved back): the later UID is the one used
    byBase.set(record.base, record);
  }
  return { version, uidValidity, nextUid, records: [...byBase.values()] };
}

function parseHeader(line: string): { version: 1 | 3; uidValidity: number; nextUid: number } {
  const fail = (why: string): never => {
    throw new UidlistError(1, why);
  };
  if (!/^[0-9] /.test(line)) fail('no version number');
  const version = Number(line[0]);
  const rest = line.slice(2);
  let uidValidity = 0;
  let nextUid = 0;
  if (version === 1) {
    const m = /^([0-9]+) ([0-9]+)/.exec(rest);
    if (m === null) fail('version 1 header is not "1 <uidvalidity> <nextuid>"');
    uidValidity = uint32(m?.[1] ?? '', 1, 'UIDVALIDITY');
    nextUid = uint32(m?.[2] ?? '', 1, 'next UID');
  } else if (version === 3) {
    for (const field of rest.split(' ')) {
      if (field === '') continue;
      if (field[0] === 'V') uidValidity = uint32(field.slice(1), 1, 'UIDVALIDITY');
      else if (field[0] === 'N') nextUid = uint32(field.slice(1), 1, 'next UID');
    }
  } else {
    fail(`unsupported version ${version} (Dovecot reads 1 and 3)`);
  }
  if (uidValidity === 0 || nextUid === 0) fail(`broken header (UIDVALIDITY ${uidValidity}, next UID ${nextUid})`);
  return { version: version as 1 | 3, uidValidity, nextUid };
}

function parseRecord(line: string, version: 1 | 3, number: number): UidlistRecord {
  const m = /^([0-9]+) +/.exec(line);
  if (m === null) throw new UidlistError(number, 'not "<uid> ..."');
  const uid = uint32(m[1] ?? '', number, 'UID');
  if (uid === 0 || uid === UINT32_MAX) throw new UidlistError(number, `invalid UID ${uid}`);
  let rest = line.slice(m[0].length);
  const fields = new Map<string, string>();
  if (version === 3) {
    while (rest !== '' && rest[0] !== ':') {
      const end = rest.indexOf(' ');
      const field = end < 0 ? rest : rest.slice(0, end);
      const key = field[0] ?? '';
      if (!RECORD_KEYS.has(key)) throw new UidlistError(number, `unknown field ${JSON.stringify(field)}`);
      if (!fields.has(key)) fields.set(key, field.slice(1));
      rest = end < 0 ? '' : rest.slice(end).replace(/^ +/, '');
    }
    if (rest[0] === ':') rest = rest.slice(1);
  }
  if (rest === '') throw new UidlistError(number, 'no filename');
  if (rest.includes('/')) throw new UidlistError(number, `broken filename ${JSON.stringify(rest)}`);
  const colon = rest.indexOf(':');
  return { uid, base: colon < 0 ? rest : rest.slice(0, colon), fields };
}

function uint32(digits: string, line: number, what: string): number {
  const value = DECIMAL.test(digits) ? Number(digits) : NaN;
  if (!Number.isSafeInteger(value) || value > UINT32_MAX) throw new UidlistError(line, `invalid ${what} ${JSON.stringify(digits)}`);
  return value;
}
