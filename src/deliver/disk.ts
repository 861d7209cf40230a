// The file calls of a delivery, made one of two ways by the operator's I/O policy
// (`blocking_file_io`, maildrop/io-policy.ts). On a local disk, creates, links, unlinks, writes to
// the page cache and closes are blocking calls of a few µs each, where each fs.promises call is a
// thread-pool round trip with a FileHandle and its promises (~40-70 µs of CPU on Node 20); on
// network storage any of them may wait on a server, so all go through the pool (fd-based callback
// calls: no FileHandle). fsync(2) is a wait on the disk itself: always through the pool, so that
// it never stalls the other sessions of the thread. Only regular files and directories the
// delivery creates or opens with O_NOFOLLOW | O_DIRECTORY are touched: never a FIFO or a device.
import {
  close,
  closeSync,
  fsync,
  link,
  linkSync,
  lstat,
  lstatSync,
  mkdir,
  mkdirSync,
  open,
  openSync,
  readlink,
  readlinkSync,
  rename,
  renameSync,
  unlink,
  unlinkSync,
  write,
  writeSync,
  type Stats,
} from 'node:fs';

export interface DeliveryDisk {
  /** The calls below other than fsync are blocking ones (a local disk). */
  readonly blocking: boolean;
  open(path: string, flags: number, mode?: number): Promise<number>;
  /** Octets written (maybe fewer than asked). */
  write(fd: number, buffer: Buffer, offset: number, length: number): Promise<number>;
  /** Always through the pool: a disk wait. */
  fsync(fd: number): Promise<void>;
  close(fd: number): Promise<void>;
  link(existing: string, target: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  readlink(path: string): Promise<string>;
  mkdir(path: string, mode: number, recursive: boolean): Promise<void>;
  /** undefined when nothing is there (no exception built for the common "absent"). */
  lstat(path: string): Promise<Stats | undefined>;
}

/** A callback call as a promise (Node's own promisify adds a closure per call too, and more checks). */
function pooled<T>(call: (done: (error: NodeJS.ErrnoException | null, value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => call((error, value) => (error ? reject(error) : resolve(value))));
}

const pooledFsync = (fd: number): Promise<void> => pooled<void>((done) => fsync(fd, (e) => done(e)));

/** Everything through the thread pool: network storage, and the default of `r2d2 deliver`. */
export const POOLED_DISK: DeliveryDisk = {
  blocking: false,
  open: (path, flags, mode) => pooled<number>((done) => open(path, flags, mode, done)),
  write: (fd, buffer, offset, length) => pooled<number>((done) => write(fd, buffer, offset, length, null, done)),
  fsync: pooledFsync,
  close: (fd) => pooled<void>((done) => close(fd, (e) => done(e))),
  link: (existing, target) => pooled<void>((done) => link(existing, target, (e) => done(e))),
  rename: (from, to) => pooled<void>((done) => rename(from, to, (e) => done(e))),
  unlink: (path) => pooled<void>((done) => unlink(path, (e) => done(e))),
  readlink: (path) => pooled<string>((done) => readlink(path, done)),
  mkdir: (path, mode, recursive) => pooled<void>((done) => mkdir(path, { mode, recursive }, (e) => done(e))),
  lstat: (path) =>
    new Promise((resolve, reject) => lstat(path, (error, stats) => (error === null ? resolve(stats) : error.code === 'ENOENT' ? resolve(undefined) : reject(error)))),
};

/** Blocking calls, fsync aside. The async wrappers turn a thrown error into a rejection. */
export const BLOCKING_DISK: DeliveryDisk = {
  blocking: true,
  open: async (path, flags, mode) => openSync(path, flags, mode),
  write: async (fd, buffer, offset, length) => writeSync(fd, buffer, offset, length),
  fsync: pooledFsync,
  close: async (fd) => closeSync(fd),
  link: async (existing, target) => linkSync(existing, target),
  rename: async (from, to) => renameSync(from, to),
  unlink: async (path) => unlinkSync(path),
  readlink: async (path) => readlinkSync(path),
  mkdir: async (path, mode, recursive) => void mkdirSync(path, { mode, recursive }),
  lstat: async (path) => lstatSync(path, { throwIfNoEntry: false }),
};

/** The disk for the I/O policy's `blocking` (config.blockingFileIo). */
export function deliveryDisk(blocking: boolean): DeliveryDisk {
  return blocking ? BLOCKING_DISK : POOLED_DISK;
}
