/**
 * How maildrop code uses the disk: one value, chosen by the operator (`blocking_file_io`,
 * `sync_read_max`) and passed once. On a local disk a blocking open+read+close of a cached file
 * costs ~5 µs against ~40-70 µs of CPU through libuv's thread pool (Node 20), so the lock, the
 * listings and small messages use blocking calls; on network storage a slow call would stall the
 * whole worker thread, so everything goes through the pool. Only regular files are ever read
 * with blocking calls (see safe-open.ts): a FIFO or a device would block the thread.
 */
export interface FileIo {
  /** Lock files, directory listings and folder stats use blocking calls. */
  readonly blocking: boolean;
  /** Messages up to this many octets are read whole with blocking calls; 0 = never. */
  readonly syncReadMax: number;
}

/** Everything through the thread pool: network storage, and tools that need no speed. */
export const POOLED_IO: FileIo = { blocking: false, syncReadMax: 0 };
