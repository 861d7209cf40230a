// What Maildir++ counts against a quota: every message in new/ and cur/ of the maildir and its
// `.Folder` subfolders. A message's size is the `,S=<bytes>` field of its name if it has one,
// else its size on disk -- what Courier and Dovecot count, so r2d2 and they can share one
// maildirsize. Folders are opened without following symlinks: a link is not counted.
import { lstat, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { withDir } from './open-dir';
import type { QuotaUsage } from './quota';
import { errnoCode, forEachLimit } from './util';

/** The size Maildir++ counts for one message: `,S=<n>` in its name, else its size on disk. */
export async function quotaSizeOf(path: string): Promise<number> {
  const fromName = sizeFromName(basename(path));
  return fromName ?? (await lstat(path)).size;
}

/** `,S=<n>` in the name before the info part (Courier, Dovecot); undefined if none. */
export function sizeFromName(name: string): number | undefined {
  const colon = name.indexOf(':');
  const base = colon < 0 ? name : name.slice(0, colon);
  const m = /,S=(\d{1,15})(?:,|$)/.exec(base);
  return m === null ? undefined : Number(m[1]);
}

/** A folder that is missing, not a directory or a symlink is not counted. */
const NOT_A_FOLDER = new Set(['ENOENT', 'ENOTDIR', 'ELOOP']);

/**
 * Counts every message in new/ and cur/ of the maildir and its Maildir++ folders. `maildir`
 * may be a `/proc/self/fd/N` path of an opened maildir (see open-dir.ts).
 */
export async function measureUsage(maildir: string): Promise<QuotaUsage> {
  const usage = { bytes: 0, messages: 0 };
  await countFolder(maildir, usage);
  let names: string[];
  try {
    names = await readdir(maildir);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return usage;
    throw e;
  }
  for (const name of names) {
    if (!name.startsWith('.') || name === '.' || name === '..') continue;
    await withDir(join(maildir, name), (folder) => countFolder(folder.path, usage)).catch((e: unknown) => {
      if (!NOT_A_FOLDER.has(errnoCode(e) ?? '')) throw e;
    });
  }
  return usage;
}

async function countFolder(folder: string, usage: { bytes: number; messages: number }): Promise<void> {
  for (const sub of ['new', 'cur']) {
    try {
      await withDir(join(folder, sub), async (dir) => {
        const names = await readdir(dir.path);
        await forEachLimit(names, 16, async (name) => {
          if (name.startsWith('.')) return;
          try {
            const size = await quotaSizeOf(dir.at(name)); // awaited first: `+= await` would lose updates
            usage.bytes += size;
            usage.messages++;
          } catch (e) {
            if (errnoCode(e) !== 'ENOENT') throw e; // removed meanwhile
          }
        });
      });
    } catch (e) {
      if (!NOT_A_FOLDER.has(errnoCode(e) ?? '')) throw e;
    }
  }
}
