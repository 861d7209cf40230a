// Courier's files in a maildir, read as Courier reads them.
//
// courierpop3dsizelist (courier-imap's imap/pop3dserver.c, versions 2 and 3, since 2003): what
// its POP3 server numbered messages by.
//   /3 <nextuid> <uidvalidity>
//   <filename> <size> <uid>:<uidvalidity>[:<utf8>]       (the filename may hold spaces)
// The UIDL it serves is `UID<uid>-<uidvalidity>`, `UID<uid>` when the uidvalidity is 0, and for
// uid 0 (lists carried over from before 2003) the base name, each octet outside 0x21..0x7E and
// each ' " + written `+XX` (hex). Entries are matched to files by base name (up to the `:`).
//
// courierimapuiddb (imap/imapscanclient.C, version 1; Dovecot's uidlist version 1 is the same
// format): Courier IMAP's UIDs.
//   1 <uidvalidity> <nextuid>
//   <uid> <base name>

export interface SizelistRecord {
  /** The filename up to the first `:`. */
  readonly base: string;
  readonly size: number;
  readonly uid: number;
  readonly uidValidity: number;
}

export interface Sizelist {
  readonly version: 2 | 3;
  readonly records: readonly SizelistRecord[];
}

export interface ImapUidRecord {
  readonly uid: number;
  readonly base: string;
}

export interface ImapUidDb {
  readonly uidValidity: number;
  readonly nextUid: number;
  readonly records: readonly ImapUidRecord[];
}

export class CourierFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CourierFileError';
  }
}

const baseOf = (name: string): string => {
  const colon = name.indexOf(':');
  return colon < 0 ? name : name.slice(0, colon);
};

/**
 * Parses courierpop3dsizelist. A header Courier does not accept (another version, no `/`) is an
 * error: Courier then numbers every message anew, so no client saw these numbers. Lines it would
 * skip are skipped.
 */
export function parseSizelist(text: string): Sizelist {
  const lines = text.split('\n');
  const header = /^\/([0-9]+) ([0-9]+)(?: ([0-9]+))?/.exec(lines[0] ?? '');
  const version = Number(header?.[1]);
  if (header === null || (version !== 2 && version !== 3)) throw new CourierFileError('courierpop3dsizelist: the first line is not "/3 <nextuid> <uidvalidity>" (or /2): Courier would number every message anew');
  const records: SizelistRecord[] = [];
  for (const line of lines.slice(1)) {
    // As readpop3dlist(): the last two space-separated fields are the size and uid:uidv[:utf8].
    const last = line.lastIndexOf(' ');
    const before = last < 0 ? -1 : line.lastIndexOf(' ', last - 1);
    if (before <= 0) continue;
    const size = /^[0-9]+$/.exec(line.slice(before + 1, last));
    const ids = /^([0-9]+):([0-9]+)(?::-?[0-9]+)?$/.exec(line.slice(last + 1));
    if (size === null || ids === null) continue;
    records.push({ base: baseOf(line.slice(0, before)), size: Number(size[0]), uid: Number(ids[1]), uidValidity: Number(ids[2]) });
  }
  return { version: version as 2 | 3, records };
}

/** The UIDL Courier's print_uidl() sends for a sizelist entry. */
export function courierUidl(record: SizelistRecord): string {
  if (record.uid !== 0) return record.uidValidity !== 0 ? `UID${record.uid}-${record.uidValidity}` : `UID${record.uid}`;
  let out = '';
  for (const octet of Buffer.from(record.base, 'utf8')) {
    const plain = octet >= 0x21 && octet <= 0x7e && octet !== 0x27 && octet !== 0x22 && octet !== 0x2b;
    out += plain ? String.fromCharCode(octet) : `+${octet.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Parses courierimapuiddb (version 1). Lines Courier would skip are skipped. */
export function parseImapUidDb(text: string): ImapUidDb {
  const lines = text.split('\n');
  const header = /^([0-9]+) +([0-9]+) +([0-9]+)/.exec(lines[0] ?? '');
  if (header === null || header[1] !== '1') throw new CourierFileError('courierimapuiddb: the first line is not "1 <uidvalidity> <nextuid>"');
  const records: ImapUidRecord[] = [];
  for (const line of lines.slice(1)) {
    const m = /^([0-9]+)\s+(.+)$/.exec(line);
    if (m === null) continue;
    records.push({ uid: Number(m[1]), base: baseOf(m[2] ?? '') });
  }
  return { uidValidity: Number(header[2]), nextUid: Number(header[3]), records };
}
