import { close, closeSync, open, openSync, read, readSync } from 'node:fs';

/**
 * Reading message files. A small message is read with blocking calls: on a page-cache hit
 * open+read+close costs ~5 µs, against ~40-70 µs of CPU for the same work through the libuv
 * thread pool (measured on Node 20), and RETR-heavy sessions are made of small messages.
 * The price is that a slow disk stalls this worker thread for the read: operators with maildirs
 * on network storage set `sync_read_max = 0`. Large messages are always streamed.
 */

/** The whole file if it holds at most `maxOctets`; undefined if it is larger. Throws errno errors. */
export function readSmallFile(path: string, maxOctets: number): Buffer | undefined {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(maxOctets + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > maxOctets) return undefined;
    }
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

export function openFile(path: string): Promise<number> {
  return new Promise((resolve, reject) => open(path, 'r', (error, fd) => (error ? reject(error) : resolve(fd))));
}

export function readChunk(fd: number, buffer: Buffer): Promise<number> {
  return new Promise((resolve, reject) => read(fd, buffer, 0, buffer.length, null, (error, n) => (error ? reject(error) : resolve(n))));
}

export function closeFile(fd: number): void {
  close(fd, () => undefined);
}
