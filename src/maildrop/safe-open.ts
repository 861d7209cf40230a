// Files in a maildir are untrusted input (DESIGN.md): a message may be a symlink to /etc/shadow,
// a FIFO that never answers or a device that never ends. Every file r2d2 reads from a maildir is
// opened here: no symlink is followed (O_NOFOLLOW), the open itself never waits (O_NONBLOCK: a
// FIFO opens at once instead of blocking for a writer), and fstat must say "regular file" before
// a byte is read (regular files ignore O_NONBLOCK).
import { closeSync, constants, fstat, fstatSync, open, openSync, close, type Stats } from 'node:fs';

const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
/** Directories of a maildir: never through a symlink (`cur/` linked to another user's `new/`). */
export const DIRECTORY_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/** An errno-style error for a maildir entry that is not a regular file: EISDIR, or ENOTREG for the rest. */
export class NotRegularFileError extends Error {
  readonly code: string;
  constructor(readonly kind: string) {
    super(`not a regular file (${kind})`);
    this.code = kind === 'directory' ? 'EISDIR' : 'ENOTREG';
  }
}

export interface OpenedFile {
  readonly fd: number;
  /** Octets on disk when opened. */
  readonly size: number;
}

function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return 'fifo';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'device';
  if (stats.isSocket()) return 'socket';
  if (stats.isDirectory()) return 'directory';
  return 'other';
}

/** Opens a regular file with blocking calls; throws ELOOP for a symlink, ENOTREG for anything not a file. */
export function openRegularSync(path: string | Buffer): OpenedFile {
  const fd = openSync(path, READ_FLAGS);
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new NotRegularFileError(kindOf(stats));
    return { fd, size: stats.size };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** The same through the thread pool. */
export function openRegular(path: string | Buffer): Promise<OpenedFile> {
  return new Promise((resolve, reject) => {
    open(path, READ_FLAGS, (openError, fd) => {
      if (openError) return reject(openError);
      fstat(fd, (statError, stats) => {
        const failure = statError ?? (stats.isFile() ? undefined : new NotRegularFileError(kindOf(stats)));
        if (failure === undefined) return resolve({ fd, size: stats.size });
        close(fd, () => reject(failure));
      });
    });
  });
}
