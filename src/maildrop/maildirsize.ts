// The Maildir++ `<maildir>/maildirsize` file (www.courier-mta.org/imap/README.maildirquota.html):
// the quota definition on its first line, then lines of `<bytes> <messages>`, each a delivery (+)
// or a removal (-); the sum of the lines is the usage. Lines are appended with one O_APPEND
// write each, so writers never interleave; the whole file is rewritten (tmp/ + rename) only by a
// recalculation. The file is untrusted: it is never opened through a symlink (O_NOFOLLOW), and a
// link, FIFO or other non-file is treated as no maildirsize, published on
// MAILDIRSIZE_REFUSED_CHANNEL and never written through.
import { crypto } from './lazy-crypto';
import { channel } from 'node:diagnostics_channel';
import { constants } from 'node:fs';
import { lstat, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { formatQuotaDefinition, parseQuotaDefinition, UNLIMITED, type QuotaDefinition, type QuotaUsage } from './quota';
import { measureUsage, quotaSizeOf } from './quota-usage';
import { errnoCode } from './util';
// For the importers another branch is moving (maildir tools, the deliver schema): their import
// lines change after that merge; new code imports these from quota.ts and quota-usage.ts.

export const MAILDIRSIZE = 'maildirsize';
/** Maildir++: a maildirsize that grew past this is recalculated at the next delivery. */
export const MAILDIRSIZE_MAX_BYTES = 5120;
/** Maildir++: an over-quota answer from a maildirsize older than this is checked by a recalculation. */
export const MAILDIRSIZE_STALE_MS = 15 * 60 * 1000;
/** diagnostics_channel name: `{ path, reason }` for each maildirsize refused (a symlink, not a file). */
export const MAILDIRSIZE_REFUSED_CHANNEL = 'r2d2:maildirsize-refused';

const refused = channel(MAILDIRSIZE_REFUSED_CHANNEL);
/** O_NONBLOCK: a FIFO planted as maildirsize never blocks the open. */
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const APPEND_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW | constants.O_NONBLOCK;

export interface MaildirSize {
  /** The first line as written (the definition the file was made for). */
  readonly definitionLine: string;
  readonly definition: QuotaDefinition;
  readonly usage: QuotaUsage;
  /** File size and age: Maildir++ recalculates big or old files. */
  readonly fileBytes: number;
  readonly mtimeMs: number;
  /** false when a line could not be read: the file must be recalculated. */
  readonly valid: boolean;
}

function refuse(path: string, reason: string): void {
  if (refused.hasSubscribers) refused.publish({ path, reason });
}

/**
 * Opens maildirsize; undefined when there is none, or when it is a symlink or not a regular
 * file (refused). `forAppend`: a file with other hard links is refused too.
 */
async function openMaildirSize(maildir: string, flags: number, forAppend: boolean): Promise<FileHandle | undefined> {
  const path = join(maildir, MAILDIRSIZE);
  let file: FileHandle;
  try {
    file = await open(path, flags);
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') {
      refuse(path, 'maildirsize is a symbolic link: not followed, the maildir is treated as keeping none');
      return undefined;
    }
    if (code === 'ENXIO') {
      // A FIFO opened for writing without a reader (O_NONBLOCK).
      refuse(path, 'maildirsize is not a regular file: not used');
      return undefined;
    }
    throw e;
  }
  const st = await file.stat().catch(async (e: unknown) => {
    await file.close();
    throw e;
  });
  const problem = !st.isFile() ? 'not a regular file' : forAppend && st.nlink > 1 ? 'a file with other hard links' : undefined;
  if (problem === undefined) return file;
  await file.close();
  refuse(path, `maildirsize is ${problem}: not used`);
  return undefined;
}

/** Reads maildirsize; undefined when there is none (or it was refused). */
export async function readMaildirSize(maildir: string): Promise<MaildirSize | undefined> {
  const file = await openMaildirSize(maildir, READ_FLAGS, false);
  if (file === undefined) return undefined;
  try {
    const { size, mtimeMs } = await file.stat();
    const text = await file.readFile('utf8');
    const lines = text.split('\n');
    const definitionLine = lines[0] ?? '';
    const definition = parseQuotaDefinition(definitionLine);
    let bytes = 0;
    let messages = 0;
    let valid = definition !== undefined;
    for (let i = 1; i < lines.length; i++) {
      const line = (lines[i] ?? '').trim();
      if (line === '') continue;
      const m = /^(-?\d{1,15})\s+(-?\d{1,15})$/.exec(line);
      if (m === null) {
        valid = false;
        continue;
      }
      bytes += Number(m[1]);
      messages += Number(m[2]);
    }
    if (!text.endsWith('\n')) valid = false; // a writer was cut short
    return { definitionLine, definition: definition ?? UNLIMITED, usage: { bytes, messages }, fileBytes: size, mtimeMs, valid };
  } finally {
    await file.close();
  }
}

/**
 * Appends one `<bytes> <messages>` line with a single O_APPEND write. Never creates the file:
 * answers false when there is none (no quota kept on this maildir) or it was refused.
 */
export async function appendMaildirSize(maildir: string, bytes: number, messages: number): Promise<boolean> {
  const file = await openMaildirSize(maildir, APPEND_FLAGS, true);
  if (file === undefined) return false;
  try {
    await file.write(`${bytes} ${messages}\n`);
    return true;
  } finally {
    await file.close();
  }
}

/**
 * Rewrites maildirsize from a count of the maildir: written in `tmpDir` (default `tmp/`),
 * fsynced, renamed over the old file (readers see the old or the new file, never half of one;
 * a symlink in its place is replaced, not written through). `maildir` and `tmpDir` may be
 * `/proc/self/fd/N` paths of opened directories (see open-dir.ts).
 */
export async function recalculateMaildirSize(maildir: string, def: QuotaDefinition, tmpDir = join(maildir, 'tmp')): Promise<QuotaUsage> {
  const usage = await measureUsage(maildir);
  const tmp = join(tmpDir, `${Math.floor(Date.now() / 1000)}.R${crypto().randomBytes(8).toString('hex')}.maildirsize`);
  const file = await open(tmp, 'wx', 0o600);
  try {
    await file.write(`${formatQuotaDefinition(def)}\n${usage.bytes} ${usage.messages}\n`);
    await file.sync();
    await file.close();
    await rename(tmp, join(maildir, MAILDIRSIZE));
  } catch (e) {
    await file.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  return usage;
}

/**
 * Counts what r2d2's UPDATE state removes, for one `-<bytes> -<messages>` line. `open` answers
 * undefined when the maildir keeps no maildirsize (or a refused one), so maildrops without a
 * quota pay one lstat.
 */
export class RemovalTally {
  private bytes = 0;
  private messages = 0;
  private constructor(private readonly maildir: string) {}

  static async open(maildir: string): Promise<RemovalTally | undefined> {
    const path = join(maildir, MAILDIRSIZE);
    const st = await lstat(path).catch(() => undefined);
    if (st === undefined) return undefined;
    if (!st.isFile()) {
      refuse(path, `maildirsize is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}: removals not recorded`);
      return undefined;
    }
    return new RemovalTally(maildir);
  }

  /** The size to count for a file about to be unlinked (throws ENOENT like the unlink would). */
  sizeOf(path: string): Promise<number> {
    return quotaSizeOf(path);
  }

  removed(bytes: number): void {
    this.bytes += bytes;
    this.messages++;
  }

  /** Appends the line (never through a link); a failure leaves the file to the next recalculation and is not thrown. */
  async record(): Promise<void> {
    if (this.messages === 0) return;
    await appendMaildirSize(this.maildir, -this.bytes, -this.messages).catch(() => undefined);
  }
}
