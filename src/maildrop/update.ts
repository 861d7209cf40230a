// The UPDATE state (RFC 1939 §6): remove the messages the client marked with DELE -- and only those.
import { readdir, unlink } from 'node:fs/promises';
import { foldersAt, type FolderName, type MaildirFolders } from './folders';
import { RemovalTally } from './maildirsize';
import { parseMaildirName } from './name';
import { messagePath, type MessageEntry } from './scan';
import { errnoCode, forEachLimit } from './util';

export interface UpdateResult {
  readonly deleted: number;
  readonly failed: number;
}

const UNLINK_CONCURRENCY = 16;

type Dir = FolderName;
/** unique-id -> file names in one directory; undefined when the directory could not be read. */
type Index = Map<string, string[]> | undefined;

/**
 * Unlinks each doomed message. A file no longer at its snapshot name may have been renamed by
 * another tool since the scan -- moved new/ -> cur/, given other flags, or given its Z size --
 * so the other directory, then its own, is searched once (one readdir each, on the first miss)
 * for a file with the same unique-id, and that file is removed. A message found nowhere is
 * already gone and counts as deleted. Any other error counts as failed; nothing is thrown.
 * A Maildir++ `maildirsize`, when the maildir keeps one, gets one line for what was removed.
 * `maildir` is a plain path (tools, tests) or the folders a session opened (folders.ts).
 */
export async function applyDeletions(maildir: MaildirFolders | string, doomed: readonly MessageEntry[]): Promise<UpdateResult> {
  const folders = typeof maildir === 'string' ? foldersAt(maildir) : maildir;
  let deleted = 0;
  let failed = 0;
  const tally = doomed.length === 0 ? undefined : await RemovalTally.open(folders.root);
  const indexes = new Map<Dir, Promise<Index>>();
  const indexOf = (dir: Dir): Promise<Index> => {
    let index = indexes.get(dir);
    if (index === undefined) {
      index = buildIndex(folders[dir]);
      indexes.set(dir, index);
    }
    return index;
  };
  await forEachLimit(doomed, UNLINK_CONCURRENCY, async (m) => {
    if (await remove(folders, m, indexOf, tally)) deleted++;
    else failed++;
  });
  await tally?.record();
  return { deleted, failed };
}

async function remove(folders: MaildirFolders, m: MessageEntry, indexOf: (dir: Dir) => Promise<Index>, tally?: RemovalTally): Promise<boolean> {
  const first = await unlinkGone(messagePath(folders, m), tally);
  if (first !== 'ENOENT') return first;
  for (const dir of [m.dir === 'new' ? 'cur' : 'new', m.dir] as const) {
    const index = await indexOf(dir);
    if (index === undefined) return false; // cannot tell whether it is still there
    for (const file of index.get(m.uidl) ?? []) {
      if (dir === m.dir && file === m.file) continue;
      const result = await unlinkGone(messagePath(folders, { dir, file }), tally);
      if (result !== true && result !== 'ENOENT') return false;
    }
  }
  return true;
}

/** true: unlinked; 'ENOENT': not there; false: some other error. */
async function unlinkGone(path: string, tally?: RemovalTally): Promise<boolean | 'ENOENT'> {
  try {
    const bytes = tally === undefined ? 0 : await tally.sizeOf(path);
    await unlink(path);
    tally?.removed(bytes);
    return true;
  } catch (e) {
    return errnoCode(e) === 'ENOENT' ? 'ENOENT' : false;
  }
}

async function buildIndex(dir: string | undefined): Promise<Index> {
  if (dir === undefined) return new Map(); // the folder did not exist at login: nothing of it listed
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    const code = errnoCode(e);
    return code === 'ENOENT' || code === 'ENOTDIR' ? new Map() : undefined;
  }
  const index = new Map<string, string[]>();
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const { uidl } = parseMaildirName(name);
    const same = index.get(uidl);
    if (same === undefined) index.set(uidl, [name]);
    else same.push(name);
  }
  return index;
}
