// One readdir of new/ and cur/ -> the numbered snapshot a POP3 session works on.
import { readdirSync, statSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { foldersAt, type FolderName, type MaildirFolders } from './folders';
import { parseMaildirName } from './name';
import { rfc822SizeOfFile } from './rfc822-size';
import { assignImportedUidls } from './uidl-assign';
import { readUidlIndex, type IndexRead } from './uidl-index';
import { errnoCode, forEachLimit } from './util';

export interface MessageEntry {
  readonly dir: FolderName;
  readonly file: string;
  readonly size: number;
  readonly uidl: string;
}

export interface Snapshot {
  readonly messages: readonly MessageEntry[];
  readonly totalOctets: number;
  /** names without a usable Z size, sized by reading the file */
  readonly slowPath: number;
  /** The imported-UIDL index (uidl-index.ts): absent, read, or present but not used (and why). */
  readonly uidlIndex: IndexRead['kind'];
  /** Why a present index was not used, for the log. */
  readonly uidlIndexProblem?: string;
}

/** Files read at once on the slow path: far from EMFILE, enough to keep the disk busy. */
const SLOW_PATH_CONCURRENCY = 8;

interface Found {
  dir: FolderName;
  file: string;
  size: number | undefined;
  uidl: string;
  time: number;
  /** The `M<usec>` of the unique part, when the name has one; -1 otherwise. */
  micros: number;
}

/**
 * Lists the maildrop, oldest first: by the time part (the digits before the first `.`; names
 * without one sort last), then by file name, so message numbers are stable between scans.
 * No stat: sizes come from the Z field of the name, and only names without one are read.
 *
 * - dot files are skipped, tmp/ is never read; a slow-path file that vanished, or is not a regular
 *   file (a directory, FIFO, device or symlink: never opened for reading), is left out; other read
 *   errors are thrown;
 * - one file per unique-id: a message present in both new/ and cur/ is listed once, from cur/;
 * - a missing new/ or cur/ is empty when the maildir exists; a missing maildir throws ENOENT,
 *   a maildir, new/ or cur/ that is not a directory throws ENOTDIR (the error's `code`).
 *
 * Measured (Node 20.20, 2-core VM under a load average of ~2, ext4, warm dentry cache, 25,000
 * Z-sized names in each of new/ and cur/): 45-90 ms per scan of 50,000 names -- readdir ~20-35,
 * name parsing ~10-20, the unique-id Map ~10, the sort ~11 (test/unit/maildrop-scan prints it).
 */
export function scanMaildrop(maildir: string, blocking = false): Promise<Snapshot> {
  return scanFolders(foldersAt(maildir), blocking);
}

/** The scan over folders opened (or named) already: see folders.ts. */
export async function scanFolders(folders: MaildirFolders, blocking = false): Promise<Snapshot> {
  // The index is looked for in the same pass: one failed open when there is none.
  const [inNew, inCur, index] = blocking
    ? [listSync(folders, 'new'), listSync(folders, 'cur'), await readUidlIndex(folders.root, true)]
    : await Promise.all([list(folders, 'new'), list(folders, 'cur'), readUidlIndex(folders.root)]);
  const byUidl = new Map<string, Found>();
  collect(byUidl, 'new', inNew);
  collect(byUidl, 'cur', inCur);

  const found = [...byUidl.values()];
  const slow = found.filter((f) => f.size === undefined);
  await forEachLimit(slow, SLOW_PATH_CONCURRENCY, async (f) => {
    try {
      f.size = await rfc822SizeOfFile(messagePath(folders, f));
    } catch (e) {
      if (!LEFT_OUT.has(errnoCode(e) ?? '')) throw e;
    }
  });

  const listed = found.filter((f): f is Found & { size: number } => f.size !== undefined); // others vanished before we could read them
  listed.sort(oldestFirst);
  if (index.kind === 'read') assignImportedUidls(listed, index.index.entries);
  const messages: MessageEntry[] = [];
  let totalOctets = 0;
  for (const { dir, file, size, uidl } of listed) {
    messages.push({ dir, file, size, uidl });
    totalOctets += size;
  }
  const problem = index.kind === 'ignored' ? { uidlIndexProblem: index.why } : {};
  return { messages, totalOctets, slowPath: slow.length, uidlIndex: index.kind, ...problem };
}

/** Slow-path errors that leave a file out of the listing: gone, or not a regular file. */
const LEFT_OUT = new Set(['ENOENT', 'EISDIR', 'ENOTDIR', 'ENOTREG', 'ELOOP']);

/** Where a listed message is: under the folder path (a plain path, or /proc/self/fd/N of an opened folder). */
export function messagePath(maildir: MaildirFolders | string, m: { readonly dir: FolderName; readonly file: string }): string {
  const folders = typeof maildir === 'string' ? foldersAt(maildir) : maildir;
  const dir = folders[m.dir];
  // A folder missing at login lists nothing, so no message of it is ever asked for; this path fails ENOENT.
  return dir === undefined ? join(folders.root, m.dir, m.file) : join(dir, m.file);
}

/** list() with blocking calls (see the `blocking` option): one readdir without a thread-pool trip. */
function listSync(folders: MaildirFolders, dir: FolderName): string[] {
  const path = folders[dir];
  if (path === undefined) return [];
  try {
    return readdirSync(path);
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw e;
    statSync(folders.root); // throws ENOENT when the maildir itself is missing
    return [];
  }
}

async function list(folders: MaildirFolders, dir: FolderName): Promise<string[]> {
  const path = folders[dir];
  if (path === undefined) return [];
  try {
    return await readdir(path);
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw e;
    await stat(folders.root); // throws ENOENT when the maildir itself is missing
    return [];
  }
}

function collect(byUidl: Map<string, Found>, dir: FolderName, names: readonly string[]): void {
  for (const file of names) {
    // U+FFFD: the name was not UTF-8, so it cannot be opened again through a string path.
    if (file.startsWith('.') || file.includes('\uFFFD')) continue;
    const { size, uidl } = parseMaildirName(file);
    const entry: Found = { dir, file, size, uidl, time: timeOf(file), micros: microsOf(file) };
    const seen = byUidl.get(uidl);
    if (seen === undefined || prefer(entry, seen)) byUidl.set(uidl, entry);
  }
}

/** The digits before the first `.`, as a number; Infinity when there are none or other characters. */
function timeOf(file: string): number {
  let time = 0;
  for (let i = 0; i < file.length; i++) {
    const c = file.charCodeAt(i);
    if (c === 0x2e) return i > 0 ? time : Infinity;
    if (c < 0x30 || c > 0x39) return Infinity;
    time = time * 10 + (c - 0x30);
  }
  return Infinity;
}

/** Among files with one unique-id: cur/ over new/, a Z size over none, then the smaller name. */
function prefer(a: Found, b: Found): boolean {
  if (a.dir !== b.dir) return a.dir === 'cur';
  if ((a.size === undefined) !== (b.size === undefined)) return a.size !== undefined;
  return a.file < b.file;
}

function oldestFirst(a: Found, b: Found): number {
  if (a.time !== b.time) return a.time < b.time ? -1 : 1;
  // Within a second, by microseconds as a number: M99999 before M100000 (unpadded writers).
  if (a.micros !== b.micros && a.micros >= 0 && b.micros >= 0) return a.micros < b.micros ? -1 : 1;
  return a.file < b.file ? -1 : a.file > b.file ? 1 : 0;
}

/** The digits after `.M` right behind the time part (`1764200000.M20412P...`); -1 when absent. */
function microsOf(file: string): number {
  const dot = file.indexOf('.');
  if (dot <= 0 || file.charCodeAt(dot + 1) !== 0x4d) return -1;
  let micros = 0;
  let i = dot + 2;
  for (; i < file.length && i < dot + 9; i++) {
    const c = file.charCodeAt(i);
    if (c < 0x30 || c > 0x39) break;
    micros = micros * 10 + (c - 0x30);
  }
  return i === dot + 2 ? -1 : micros;
}
