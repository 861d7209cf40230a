// A directory opened once, never through a symlink at its last component, and named from then
// on by its /proc/self/fd/N magic link. The kernel resolves that link to the directory that was
// opened, whatever is renamed or swapped at the old path later, so paths under it are free of
// check-then-use races (Node 20 has no openat/linkat/unlinkat; this is Linux's way around that).
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** O_NOFOLLOW: a symlink at the last component is ELOOP, never followed. */
const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

export interface OpenDir {
  /** `/proc/self/fd/N`: the opened directory, whatever its name is now. */
  readonly path: string;
  /** `path`/`name`: resolved inside the opened directory. */
  at(name: string): string;
  /** fsync(2) of the directory itself. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** Opens `path` as a directory; ELOOP when it is a symlink, ENOTDIR when not a directory. */
export async function openDir(path: string): Promise<OpenDir> {
  const handle: FileHandle = await open(path, DIR_FLAGS);
  const self = `/proc/self/fd/${handle.fd}`;
  return {
    path: self,
    at: (name) => join(self, name),
    sync: () => handle.sync(),
    close: () => handle.close(),
  };
}

/** Runs `fn` with `path` opened as a directory, and closes it after. */
export async function withDir<T>(path: string, fn: (dir: OpenDir) => Promise<T>): Promise<T> {
  const dir = await openDir(path);
  try {
    return await fn(dir);
  } finally {
    await dir.close();
  }
}
