// The size of a message as a POP3 client receives it (before dot-stuffing, which RFC 1939 sizes
// leave out): lines end in CRLF. Shared by the scan (names without a Z size) and the delivery
// agent (which writes the Z field), so both must agree byte for byte with the RETR streamer:
//   - LF not preceded by CR     -> CRLF (2 octets)
//   - CR not followed by LF     -> as is (1 octet)
//   - non-empty content that does not end in LF gets a final CRLF (2 octets)
import { close, read } from 'node:fs';
import { openRegular } from './safe-open';

const LF = 0x0a;
const CR = 0x0d;
const READ_CHUNK = 64 * 1024;

export class Rfc822SizeCounter {
  #octets = 0;
  #bareLf = 0;
  /** The last byte pushed so far, -1 before any: a CR that ends one chunk pairs with an LF that starts the next. */
  #last = -1;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    for (let i = chunk.indexOf(LF); i !== -1; i = chunk.indexOf(LF, i + 1)) {
      const previous = i > 0 ? chunk[i - 1] : this.#last;
      if (previous !== CR) this.#bareLf++;
    }
    this.#octets += chunk.length;
    this.#last = chunk[chunk.length - 1] ?? -1;
  }

  /** the size as served: every LF not preceded by CR counts 2, and CRLF is added (2) if the content is non-empty and does not end with LF */
  get size(): number {
    const tail = this.#octets > 0 && this.#last !== LF ? 2 : 0;
    return this.#octets + this.#bareLf + tail;
  }
}

/**
 * Reads the whole file once (64 KiB reads, one buffer), opened safely: a symlink (ELOOP), FIFO,
 * device or directory (ENOTREG/EISDIR) is refused before a byte is read, so sizing never blocks
 * a thread-pool thread. Errors (ENOENT ...) are the caller's. A Buffer path names a file whose
 * name is not UTF-8 (`r2d2 maildir` examines those too).
 */
export async function rfc822SizeOfFile(path: string | Buffer): Promise<number> {
  const { fd } = await openRegular(path);
  try {
    const counter = new Rfc822SizeCounter();
    const buffer = Buffer.allocUnsafe(READ_CHUNK);
    for (;;) {
      const bytesRead = await new Promise<number>((resolve, reject) => read(fd, buffer, 0, READ_CHUNK, null, (e, n) => (e ? reject(e) : resolve(n))));
      if (bytesRead === 0) return counter.size;
      counter.push(buffer.subarray(0, bytesRead));
    }
  } finally {
    close(fd, () => undefined);
  }
}
