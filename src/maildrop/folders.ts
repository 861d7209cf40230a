// The folders of one maildir as a session uses them. Node 20 has no openat(2), so a maildir is
// opened once at login -- the maildir itself, then new/ and cur/ with O_DIRECTORY | O_NOFOLLOW --
// and every later listing, open, unlink and lock goes through `/proc/self/fd/N/NAME` of those
// descriptors: the kernel resolves that link to the directory that was opened, so a folder
// swapped for a symlink (or renamed) after login cannot lead anywhere else. Linux only.
import { close, closeSync, constants, fstat, fstatSync, lstatSync, open, openSync, readlink, readlinkSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { DIRECTORY_FLAGS } from './safe-open';
import { statUidlIndex } from './uidl-index';
import { errnoCode } from './util';

export type FolderName = 'new' | 'cur';

/** Paths to reach a maildir's parts by; `new`/`cur` are undefined when the folder does not exist. */
export interface MaildirFolders {
  /** The maildir itself: the lock file and maildirsize live here. */
  readonly root: string;
  readonly new: string | undefined;
  readonly cur: string | undefined;
}

/** Plain paths under `maildir`, no checks: for the maildir tools and tests, which run on a quiet maildir. */
export function foldersAt(maildir: string): MaildirFolders {
  return { root: maildir, new: join(maildir, 'new'), cur: join(maildir, 'cur') };
}

/** A folder given as a symlink: refused, never followed (errno-style code ELOOP). */
export class SymlinkedFolderError extends Error {
  readonly code = 'ELOOP';
  constructor(readonly folder: string) {
    super(`${folder}/ is a symbolic link`);
  }
}

const fdPath = (fd: number): string => `/proc/self/fd/${fd}`;
// The maildir itself may be reached through a symlink (operators link maildirs); maildir_root is
// then checked on the directory actually opened (see realPath).
const MAILDIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY;

/** A maildir opened for one session; close() once the session is over. */
export class OpenedFolders implements MaildirFolders {
  private closed = false;

  private constructor(
    private readonly rootFd: number,
    private readonly newFd: number | undefined,
    private readonly curFd: number | undefined,
    readonly blocking: boolean,
  ) {}

  get root(): string {
    return fdPath(this.rootFd);
  }

  get new(): string | undefined {
    return this.newFd === undefined ? undefined : fdPath(this.newFd);
  }

  get cur(): string | undefined {
    return this.curFd === undefined ? undefined : fdPath(this.curFd);
  }

  /** Opens the maildir itself (it may be reached through a symlink). Throws errno errors. */
  static openRoot(maildir: string, blocking: boolean): Promise<number> | number {
    return openFd(maildir, MAILDIR_FLAGS, blocking);
  }

  /**
   * Opens new/ and cur/ of the maildir opened by openRoot (and owns that descriptor from then on:
   * it is closed here on failure). Throws errno errors; a symlinked folder throws SymlinkedFolderError.
   */
  static async within(rootFd: number, blocking: boolean): Promise<OpenedFolders> {
    const opened: number[] = [rootFd];
    try {
      const folder = async (name: FolderName): Promise<number | undefined> => {
        try {
          const fd = await openFd(join(fdPath(rootFd), name), DIRECTORY_FLAGS, blocking);
          opened.push(fd);
          return fd;
        } catch (e) {
          const code = errnoCode(e);
          if (code === 'ENOENT') return undefined;
          // O_DIRECTORY|O_NOFOLLOW on a symlink fails ENOTDIR (ELOOP on some kernels): tell it from a file.
          if ((code === 'ENOTDIR' || code === 'ELOOP') && isSymlink(join(fdPath(rootFd), name))) throw new SymlinkedFolderError(name);
          throw e;
        }
      };
      const newFd = await folder('new');
      const curFd = await folder('cur');
      return new OpenedFolders(rootFd, newFd, curFd, blocking);
    } catch (e) {
      for (const fd of opened) closeFd(fd, blocking);
      throw e;
    }
  }

  /** The real path of the directory opened (for the maildir_root check): no race with a later swap. */
  realPath(): Promise<string> | string {
    if (this.blocking) return readlinkSync(this.root);
    return new Promise((resolve, reject) => readlink(this.root, (e, target) => (e ? reject(e) : resolve(target))));
  }

  /**
   * Identity and last change of new/, cur/ and the imported-UIDL index (device, inode, mtime and
   * ctime in ns; the index's size too: it is replaced by rename, but a hand edit must tell), for
   * the snapshot cache. The index costs one lstat, in the same pass as the folders' fstats.
   */
  async stamp(): Promise<{ stamp: string; changedMs: number }> {
    const [n, c, i] = await Promise.all([statFd(this.newFd, this.blocking), statFd(this.curFd, this.blocking), statUidlIndex(this.root, this.blocking)]);
    // ctime too: a tool that puts a folder's mtime back (rsync -t, touch -r) still moves its
    // ctime, which nothing outside the kernel can set.
    const part = (s: BigIntStats | undefined): string => (s === undefined ? '-' : `${s.dev}:${s.ino}:${s.mtimeNs}:${s.ctimeNs}`);
    const index = i === undefined ? '-' : `${part(i)}:${i.size}`;
    const changed = (s: BigIntStats | undefined): number => (s === undefined ? 0 : Math.max(Number(s.mtimeMs), Number(s.ctimeMs)));
    const changedMs = Math.max(changed(n), changed(c), changed(i));
    return { stamp: `${part(n)}/${part(c)}/${index}`, changedMs };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const fd of [this.rootFd, this.newFd, this.curFd]) if (fd !== undefined) closeFd(fd, this.blocking);
  }
}

function openFd(path: string, flags: number, blocking: boolean): Promise<number> | number {
  if (blocking) return openSync(path, flags);
  return new Promise((resolve, reject) => open(path, flags, (e, fd) => (e ? reject(e) : resolve(fd))));
}

function closeFd(fd: number, blocking: boolean): void {
  if (blocking) closeSync(fd);
  else close(fd, () => undefined);
}

function statFd(fd: number | undefined, blocking: boolean): Promise<BigIntStats | undefined> | BigIntStats | undefined {
  if (fd === undefined) return undefined;
  if (blocking) return fstatSync(fd, { bigint: true });
  return new Promise((resolve, reject) => fstat(fd, { bigint: true }, (e, s) => (e ? reject(e) : resolve(s))));
}

/** Only on the failure path (one lstat), so it may block briefly. */
function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
