// RFC 2449 §6.7 EXPIRE, the Maildir way. A retrieval is recorded at UPDATE by moving the message
// to cur/ with the S (seen) flag -- its base name, and so its UIDL, unchanged -- and its time is
// that move: the file's ctime.
//
// Why ctime: the kernel sets it at the link (or rename) that moves the file, no user-level tool
// can set it back (utimes sets atime and mtime only), and it lives with the file -- every host on
// shared storage sees it, a restart keeps it, no side file can disagree with the folder. Whatever
// touches the inode later (another rename such as an IMAP flag change, `r2d2 maildir fix`, a
// restore, chmod) only moves it later: an error keeps a message longer, never deletes it early.
// mtime is not used: it is the delivery time, which IMAP servers show as the received date.
//
// A message in cur/ with S counts as retrieved, whoever set the flag (an IMAP client on the same
// maildir too). Moves and deletions go through the session's opened folders (/proc/self/fd/N),
// link(2) never replaces a file and no symlink is followed (link and lstat act on the link itself).
import { link, lstat, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { MaildirFolders } from './folders';
import { NO_LINK_ACROSS_DIRS } from './link-fallback';
import { messagePath, type MessageEntry } from './scan';
import { applyDeletions, type UpdateResult } from './update';
import { errnoCode, forEachLimit } from './util';

const DAY_MS = 86_400_000;
const CONCURRENCY = 16;

/** The user's EXPIRE in days (never: nothing to do) and the session clock's time at UPDATE. */
export interface ExpirePolicy {
  readonly days: number;
  readonly nowMs: number;
}

export interface UpdateRequest {
  /** Marked with DELE. */
  readonly deleted: readonly MessageEntry[];
  /** Not marked with DELE: the rest of the session's listing. */
  readonly kept: readonly MessageEntry[];
  /** Sent whole by RETR in this session, not marked with DELE. */
  readonly retrieved: readonly MessageEntry[];
  /** undefined: no EXPIRE policy; only the DELE marks apply. */
  readonly expire: ExpirePolicy | undefined;
}

export interface UpdateReport extends UpdateResult {
  /** Removed by EXPIRE (retrieved more than `days` ago; with 0, retrieved at all). */
  readonly expired: number;
  /** Retrievals recorded (moved to cur/ with S). */
  readonly recorded: number;
  /** Expiries and records that could not be done now (the message stays; the next UPDATE tries again). */
  readonly retentionFailed: number;
}

/** The flags of a name with a standard `:2,` info part; undefined for no info part or another one. */
function flagsOf(file: string): string | undefined {
  const colon = file.indexOf(':');
  if (colon < 0) return undefined;
  const info = file.slice(colon + 1);
  return /^2,[A-Za-z]*$/.test(info) ? info.slice(2) : undefined;
}

/** In cur/ with the S flag: retrieved, by this server or any other client of the maildir. */
export function isRecordedRetrieval(entry: MessageEntry): boolean {
  return entry.dir === 'cur' && (flagsOf(entry.file)?.includes('S') ?? false);
}

/**
 * `base:2,FLAGS` with S added, flags in ASCII order (the Maildir rule); undefined for a name whose
 * info part r2d2 does not read (`:1,...`, odd characters): that file is left as it is.
 */
export function seenName(file: string): string | undefined {
  const colon = file.indexOf(':');
  if (colon < 0) return `${file}:2,S`;
  const flags = flagsOf(file);
  if (flags === undefined) return undefined;
  return `${file.slice(0, colon)}:2,${[...new Set(flags + 'S')].sort().join('')}`;
}

/**
 * RFC 1939 §6 UPDATE with an EXPIRE policy: the DELE marks first, then the messages retrieved
 * long enough ago are removed (recorded in maildirsize like DELE's), then this session's
 * retrievals are recorded -- or, with EXPIRE 0, removed. Never throws.
 */
export async function updateMaildrop(folders: MaildirFolders, request: UpdateRequest): Promise<UpdateReport> {
  const client = await applyDeletions(folders, request.deleted);
  const expire = request.expire;
  if (expire === undefined) return { ...client, expired: 0, recorded: 0, retentionFailed: 0 };
  const earlier = request.kept.filter(isRecordedRetrieval);
  const fresh = request.retrieved.filter((entry) => !isRecordedRetrieval(entry));
  let failed = 0;
  let doomed: readonly MessageEntry[];
  if (expire.days === 0) {
    doomed = [...earlier, ...fresh];
  } else {
    const aged = await retrievedBefore(folders, earlier, expire.nowMs - expire.days * DAY_MS);
    doomed = aged.before;
    failed += aged.failed;
  }
  const removed = await applyDeletions(folders, doomed);
  const recorded = expire.days === 0 ? { recorded: 0, failed: 0 } : await recordRetrievals(folders, fresh);
  return { ...client, expired: removed.deleted, recorded: recorded.recorded, retentionFailed: failed + removed.failed + recorded.failed };
}

/** The entries whose file was last moved (ctime) before `cutoffMs`; gone files are left out. */
async function retrievedBefore(folders: MaildirFolders, entries: readonly MessageEntry[], cutoffMs: number): Promise<{ before: MessageEntry[]; failed: number }> {
  const before: MessageEntry[] = [];
  let failed = 0;
  await forEachLimit(entries, CONCURRENCY, async (entry) => {
    try {
      const stats = await lstat(messagePath(folders, entry));
      if (stats.ctimeMs < cutoffMs) before.push(entry);
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') failed++; // gone (renamed or removed since login): not this time
    }
  });
  return { before, failed };
}

/** Moves each message to cur/ with S, keeping its base name (its UIDL). */
async function recordRetrievals(folders: MaildirFolders, entries: readonly MessageEntry[]): Promise<{ recorded: number; failed: number }> {
  let recorded = 0;
  let failed = 0;
  await forEachLimit(entries, CONCURRENCY, async (entry) => {
    const outcome = await markSeen(folders, entry);
    if (outcome === 'moved') recorded++;
    else if (outcome === 'failed') failed++;
  });
  return { recorded, failed };
}

async function markSeen(folders: MaildirFolders, entry: MessageEntry): Promise<'moved' | 'left' | 'failed'> {
  const name = seenName(entry.file);
  if (name === undefined || folders.cur === undefined) return 'left';
  const from = messagePath(folders, entry);
  const to = join(folders.cur, name);
  try {
    await link(from, to);
  } catch (e) {
    const code = errnoCode(e) ?? '';
    if (code === 'ENOENT') return 'left'; // moved or removed by another tool since login
    if (code === 'EEXIST' || !NO_LINK_ACROSS_DIRS.has(code)) return 'failed'; // a file of that name exists: never replaced
    // No hard links here: rename, once the name is known to be free.
    const free = await lstat(to).then(
      () => false,
      (err: unknown) => errnoCode(err) === 'ENOENT',
    );
    if (!free) return 'failed';
    return rename(from, to).then(
      () => 'moved' as const,
      () => 'failed' as const,
    );
  }
  // Both names hold the message now; the scan lists it once (from cur/) if this unlink fails.
  await unlink(from).catch(() => undefined);
  return 'moved';
}
