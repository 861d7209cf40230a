// The imported-UIDL index: `<maildir>/r2d2-uidls`, written by `r2d2 maildir import-uidls` so that
// r2d2 serves the unique-ids another server (Dovecot, Courier) gave its messages. Each line maps
// a message's own r2d2 unique-id (parseMaildirName: the base name without its Z field, or the
// carried/hashed one) to the unique-id served instead:
//
//   r2d2-uidls 1
//   1700000000.M20412P3121.mx1 000000014b8e8a4f
//
// Keyed by r2d2's own unique-id, an entry survives what that unique-id survives: flag changes,
// moves from new/ to cur/, the rename that adds a Z size, and every rename `r2d2 maildir fix`
// makes. The file is untrusted input (anyone who can write the maildir can write it): it is read
// only as a regular file (never through a symlink), only up to MAX_INDEX_BYTES, and every line
// must be two RFC 1939 unique-ids; other lines are skipped.
import { close, closeSync, fstat, fstatSync, lstat, lstatSync, read, readSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { openRegular, openRegularSync, type OpenedFile } from './safe-open';
import { errnoCode } from './util';

export const UIDL_INDEX_FILE = 'r2d2-uidls';
export const UIDL_INDEX_HEADER = 'r2d2-uidls 1';
/** About 110,000 entries of the longest kind, 300,000 of Dovecot's: far above any maildrop r2d2 serves well. */
export const MAX_INDEX_BYTES = 16 * 1024 * 1024;
/** RFC 1939 §7: 1 to 70 characters in 0x21..0x7E. */
export const UIDL_PATTERN = /^[\x21-\x7e]{1,70}$/;

export interface UidlIndex {
  /** r2d2's own unique-id -> the unique-id served. */
  readonly entries: ReadonlyMap<string, string>;
  /** Lines that were not two unique-ids, or repeated a key (the first one counts). */
  readonly rejected: number;
}

/** What the scan found at UIDL_INDEX_FILE. */
export type IndexRead =
  | { readonly kind: 'none' }
  | { readonly kind: 'read'; readonly index: UidlIndex }
  /** Present but not used (a symlink, not a regular file, too large, no header): why, for the log. */
  | { readonly kind: 'ignored'; readonly why: string };

/** Parses the file's bytes. Pure; never throws. Undefined when the header line is missing. */
export function parseUidlIndex(bytes: Buffer): UidlIndex | undefined {
  const text = bytes.toString('latin1');
  const lines = text.split('\n');
  if (lines[0] !== UIDL_INDEX_HEADER) return undefined;
  const entries = new Map<string, string>();
  let rejected = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line === '') continue;
    const space = line.indexOf(' ');
    const key = line.slice(0, space);
    const value = line.slice(space + 1);
    if (space < 0 || !UIDL_PATTERN.test(key) || !UIDL_PATTERN.test(value) || entries.has(key)) {
      rejected++;
      continue;
    }
    entries.set(key, value);
  }
  return { entries, rejected };
}

/** The file's bytes for these entries (sorted, so that an unchanged index is byte-identical). */
export function formatUidlIndex(entries: ReadonlyMap<string, string>): Buffer {
  const lines = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, value]) => `${key} ${value}\n`);
  return Buffer.from(`${UIDL_INDEX_HEADER}\n${lines.join('')}`, 'latin1');
}

/**
 * Parsed indexes by the file's identity (device and inode), reused while its size, mtime and
 * ctime are unchanged (any write changes ctime; nobody can set it back): a delivery makes the
 * next login scan the folders again, but not parse an unchanged index of 50,000 lines again.
 * One cache per thread, bounded by the entries it holds; least recently used first out.
 */
const parsedCache = new Map<string, { readonly version: string; readonly index: UidlIndex }>();
let cachedEntries = 0;
const MAX_CACHED_ENTRIES = 400_000;

function remember(identity: string, version: string, index: UidlIndex): void {
  forgetParsed(identity);
  parsedCache.set(identity, { version, index });
  cachedEntries += index.entries.size;
  for (const [key, value] of parsedCache) {
    if (cachedEntries <= MAX_CACHED_ENTRIES) break;
    parsedCache.delete(key);
    cachedEntries -= value.index.entries.size;
  }
}

function forgetParsed(identity: string): void {
  const old = parsedCache.get(identity);
  if (old === undefined) return;
  parsedCache.delete(identity);
  cachedEntries -= old.index.entries.size;
}

/** Reasons a present index is not used: it is not ours to follow or read. */
const IGNORED: Record<string, string> = {
  ELOOP: 'a symbolic link (not followed)',
  ENOTREG: 'not a regular file',
  EISDIR: 'a directory',
};

/**
 * Reads `<root>/r2d2-uidls` (root: a maildir path or an opened maildir's /proc/self/fd/N).
 * Absent: `none`, at the cost of one lstat (blocking) or one failed open. Errors other than those in IGNORED (EACCES,
 * EIO) are thrown: serving without the index would change every imported unique-id at once.
 */
export async function readUidlIndex(root: string, blocking = false): Promise<IndexRead> {
  const path = join(root, UIDL_INDEX_FILE);
  // Most maildrops have none: a failed blocking open would build an exception (~50 us, more than the syscall).
  if (blocking && lstatSync(path, { throwIfNoEntry: false }) === undefined) return { kind: 'none' };
  let file: OpenedFile;
  try {
    file = blocking ? openRegularSync(path) : await openRegular(path);
  } catch (e) {
    const code = errnoCode(e) ?? '';
    if (code === 'ENOENT') return { kind: 'none' };
    const why = IGNORED[code];
    if (why !== undefined) return { kind: 'ignored', why };
    throw e;
  }
  try {
    if (file.size > MAX_INDEX_BYTES) return { kind: 'ignored', why: `larger than ${MAX_INDEX_BYTES} bytes` };
    const st = blocking ? fstatSync(file.fd, { bigint: true }) : await fstatAsync(file.fd);
    const identity = `${st.dev}:${st.ino}`;
    const version = `${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    const known = parsedCache.get(identity);
    if (known !== undefined && known.version === version) {
      parsedCache.delete(identity); // most recently used last
      parsedCache.set(identity, known);
      return { kind: 'read', index: known.index };
    }
    const bytes = blocking ? readAllSync(file.fd, file.size) : await readAll(file.fd, file.size);
    if (bytes === undefined) return { kind: 'ignored', why: 'it grew while read (being written by another program?)' };
    const index = parseUidlIndex(bytes);
    if (index === undefined) return { kind: 'ignored', why: `its first line is not "${UIDL_INDEX_HEADER}"` };
    remember(identity, version, index);
    return { kind: 'read', index };
  } finally {
    if (blocking) closeSync(file.fd);
    else close(file.fd, () => undefined);
  }
}

/** Identity and last change of the index for the snapshot cache; undefined when there is none. */
export function statUidlIndex(root: string, blocking: boolean): Promise<BigIntStats | undefined> | BigIntStats | undefined {
  if (blocking) return lstatSync(join(root, UIDL_INDEX_FILE), { bigint: true, throwIfNoEntry: false });
  return new Promise((resolve, reject) =>
    lstat(join(root, UIDL_INDEX_FILE), { bigint: true }, (e, s) => {
      if (e === null) return resolve(s);
      return errnoCode(e) === 'ENOENT' ? resolve(undefined) : reject(e);
    }),
  );
}

function fstatAsync(fd: number): Promise<BigIntStats> {
  return new Promise((resolve, reject) => fstat(fd, { bigint: true }, (e, st) => (e ? reject(e) : resolve(st))));
}

/** The whole file as fstat sized it; undefined when it holds more (one octet of room tells). */
function readAllSync(fd: number, size: number): Buffer | undefined {
  const buffer = Buffer.allocUnsafe(size + 1);
  let used = 0;
  for (;;) {
    const n = readSync(fd, buffer, used, buffer.length - used, null);
    if (n === 0) return buffer.subarray(0, used);
    used += n;
    if (used === buffer.length) return undefined;
  }
}

async function readAll(fd: number, size: number): Promise<Buffer | undefined> {
  const buffer = Buffer.allocUnsafe(size + 1);
  let used = 0;
  for (;;) {
    const n = await new Promise<number>((resolve, reject) => read(fd, buffer, used, buffer.length - used, null, (e, got) => (e ? reject(e) : resolve(got))));
    if (n === 0) return buffer.subarray(0, used);
    used += n;
    if (used === buffer.length) return undefined;
  }
}
