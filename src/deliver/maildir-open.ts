// The maildir a delivery writes, opened once: the maildir, its tmp/ and new/ are directory
// descriptors named by their /proc/self/fd/N links (as maildrop/open-dir.ts does it), so every
// later create, link, rename and fsync happens in the directories that were checked, whatever is
// renamed or swapped for a symlink meanwhile. Plain fds through the delivery's disk (disk.ts):
// blocking calls on a local disk, the thread pool on network storage.
import { constants } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { OpenDir } from '../maildrop/open-dir';
import { isInside, realRoot } from '../maildrop/paths';
import { errnoCode } from '../maildrop/util';
import { POOLED_DISK, type DeliveryDisk } from './disk';
import { DeliveryError, EX_TEMPFAIL } from './sysexits';
import { tempfail } from './maildir-write';

export const SUBDIRS = ['tmp', 'new', 'cur'] as const;
const DIR_MODE = 0o700;
/** O_NOFOLLOW: a symlink at the last component is ELOOP, never followed. */
const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

export interface OpenMaildir {
  /** The maildir's absolute path as configured (for messages and the delivered file's path). */
  readonly path: string;
  readonly dir: OpenDir;
  readonly tmp: OpenDir;
  readonly new: OpenDir;
  /** How the delivery's file calls are made (the I/O policy). */
  readonly disk: DeliveryDisk;
  close(): Promise<void>;
}

/**
 * Opens `maildir` for a delivery: absolute, itself and its tmp/ new/ cur/ real directories --
 * never symlinks, which could lead a delivery out of it (directories above it may be links) --
 * and, when `root` is set, the directory actually opened lies inside it. Creates what is missing
 * (mode 0700) when `create` is set. Close the answer when done.
 */
export async function openMaildir(maildir: string, options: { create: boolean; root?: string | undefined; disk?: DeliveryDisk | undefined }): Promise<OpenMaildir> {
  const disk = options.disk ?? POOLED_DISK;
  if (!isAbsolute(maildir)) throw new DeliveryError(EX_TEMPFAIL, `maildir path is not absolute: ${JSON.stringify(maildir)}`);
  const path = resolve(maildir);
  const root = options.root === undefined ? undefined : resolve(options.root);
  if (root !== undefined && !isInside(path, root)) throw new DeliveryError(EX_TEMPFAIL, `maildir ${path} is outside maildir_root ${root}`);
  const opened: OpenDir[] = [];
  try {
    const dir = await openOrCreate(disk, path, options.create, () => disk.mkdir(path, DIR_MODE, true));
    opened.push(dir);
    if (root !== undefined) await checkInside(disk, dir, path, root);
    const subs: OpenDir[] = [];
    for (const sub of SUBDIRS) {
      const at = join(path, sub);
      const handle = await openOrCreate(disk, at, options.create, () => disk.mkdir(dir.at(sub), DIR_MODE, false), dir.at(sub));
      opened.push(handle);
      subs.push(handle);
    }
    const [tmp, newDir, cur] = subs as [OpenDir, OpenDir, OpenDir];
    await cur.close(); // only checked: deliveries never write cur/
    opened.splice(opened.indexOf(cur), 1);
    return { path, dir, tmp, new: newDir, disk, close: () => closeAll(opened) };
  } catch (e) {
    await closeAll(opened);
    throw e;
  }
}

async function closeAll(dirs: readonly OpenDir[]): Promise<void> {
  await Promise.all(dirs.map((d) => d.close().catch(() => undefined)));
}

/** Opens `path` as a directory, never through a symlink at its last component (ELOOP). */
async function openDir(disk: DeliveryDisk, path: string): Promise<OpenDir> {
  const fd = await disk.open(path, DIR_FLAGS);
  const self = `/proc/self/fd/${fd}`;
  let closed = false;
  return {
    path: self,
    at: (name) => join(self, name),
    sync: () => disk.fsync(fd),
    close: async () => {
      if (closed) return; // a number closed twice could be another file's by then
      closed = true;
      await disk.close(fd);
    },
  };
}

/** Opens `shown` (through `at` when given); creates it first when missing and `create` is set. */
async function openOrCreate(disk: DeliveryDisk, shown: string, create: boolean, make: () => Promise<unknown>, at = shown): Promise<OpenDir> {
  try {
    return await openDir(disk, at);
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw refusal(shown, e);
  }
  if (!create) throw new DeliveryError(EX_TEMPFAIL, `${shown} does not exist (and create_maildir is off)`);
  try {
    await make();
  } catch (e) {
    if (errnoCode(e) !== 'EEXIST') throw tempfail(`cannot create ${shown}`, e);
  }
  try {
    return await openDir(disk, at);
  } catch (e) {
    throw refusal(shown, e);
  }
}

function refusal(path: string, e: unknown): DeliveryError {
  const code = errnoCode(e);
  if (code === 'ELOOP') return new DeliveryError(EX_TEMPFAIL, `${path} is a symbolic link: refusing to deliver through it`, { cause: e });
  if (code === 'ENOTDIR') return new DeliveryError(EX_TEMPFAIL, `${path} is not a directory`, { cause: e });
  return tempfail(`cannot open ${path}`, e);
}

/** The directory opened (not whatever the path names now) must lie inside maildir_root. */
async function checkInside(disk: DeliveryDisk, dir: OpenDir, path: string, root: string): Promise<void> {
  const real = await disk.readlink(dir.path).catch((e: unknown) => {
    throw tempfail(`cannot resolve ${path}`, e);
  });
  // The root's own real path, as the POP3 side resolves it (cached a minute): the directory
  // opened is what is checked, each time.
  if (!isInside(real, await realRoot(root))) throw new DeliveryError(EX_TEMPFAIL, `maildir ${path} leads outside maildir_root ${root} (through a symbolic link)`);
}
