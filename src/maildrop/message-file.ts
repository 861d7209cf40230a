// A message's body, read for RETR/TOP. This is the one place that decides how a message file is
// read: small messages whole with blocking calls when the I/O policy allows (see io-policy.ts),
// the rest streamed through the thread pool, every file opened safely (safe-open.ts). A size in a
// name is a claim: no more file octets than the name announced are ever read.
import { close, read, readSync, closeSync } from 'node:fs';
import type { Logger } from 'pino';
import type { FileIo } from './io-policy';
import { openRegular, openRegularSync, type OpenedFile } from './safe-open';
import { errnoCode } from './util';

/**
 * Bytes read from a message file at a time when it is streamed. Each chunk is a thread-pool
 * round trip and a socket write: at 64 KiB, RETR of 20 MB cost 38-41 ms of CPU and ran at
 * 474-558 MB/s (bench, medians of 3, a 2-core VM); at 256 KiB 26-28 ms and 700-735 MB/s. 512 KiB
 * gained a few percent more for twice the memory. A large reply holds two such read buffers and
 * one output buffer of twice a chunk (buffer-pool.ts) while it streams; an idle session, none.
 */
export const CHUNK_OCTETS = 256 * 1024;

export interface MessageBody {
  /**
   * The next chunk, or undefined at the end. Read into `into` when given (the caller's buffer,
   * which it may then write while it reads the following chunk elsewhere), else into the body's
   * own buffer: then valid until the next call. Throws on a read error.
   */
  next(into?: Buffer): Promise<Buffer | undefined>;
  /** Closes the file, after any read still in flight. */
  close(): void;
}

export type MessageOpening =
  /**
   * `first` is the first chunk (undefined for an empty file); `whole` when it is the entire
   * message; `sizeMatches` when the file holds exactly the announced octets (stored with CRLF
   * line ends, so possibly in wire form already: pop3/wire-form.ts decides, chunk by chunk).
   */
  | {
      readonly kind: 'opened';
      readonly first: Buffer | undefined;
      readonly whole: boolean;
      readonly sizeMatches: boolean;
      readonly body: MessageBody;
    }
  /** Removed from the maildrop since the login (by another program). */
  | { readonly kind: 'gone' }
  /** Cannot be read now: not a regular file, a symlink, a permission or I/O error (logged). */
  | { readonly kind: 'unreadable' };

/** One message of an opened maildrop; `open()` may be called once per RETR/TOP. */
export class MessageFile {
  constructor(
    private readonly path: string,
    /** The folder and name, for the log (the path goes through /proc/self/fd). */
    private readonly name: string,
    readonly announced: number,
    private readonly io: FileIo,
    private readonly log: Logger,
  ) {}

  /**
   * Opens the file and reads its first chunk, into a buffer of at least the octets asked from
   * `into` when given (else one of its own): every failure before a byte is sent is an outcome,
   * not a throw.
   */
  async open(into?: (octets: number) => Buffer): Promise<MessageOpening> {
    let file: OpenedFile | undefined;
    try {
      const small = this.io.syncReadMax > 0 && this.announced <= this.io.syncReadMax;
      file = small ? openRegularSync(this.path) : await openRegular(this.path);
      this.checkSize(file.size);
      const limit = Math.min(file.size, this.announced);
      const sizeMatches = file.size === this.announced;
      if (small && file.size <= this.io.syncReadMax) {
        const whole = readWholeSync(file.fd, into?.(limit) ?? Buffer.allocUnsafe(limit), limit);
        closeSync(file.fd);
        return { kind: 'opened', first: whole, whole: true, sizeMatches, body: EMPTY_BODY };
      }
      const body = new StreamedBody(file.fd, this.announced);
      file = undefined; // the body owns the descriptor now
      try {
        return { kind: 'opened', first: await body.next(into?.(CHUNK_OCTETS)), whole: false, sizeMatches, body };
      } catch (error) {
        body.close();
        throw error;
      }
    } catch (error) {
      if (file !== undefined) close(file.fd, () => undefined);
      const code = errnoCode(error) ?? 'EIO';
      this.log.warn({ file: this.name, code }, 'message cannot be read');
      return code === 'ENOENT' ? { kind: 'gone' } : { kind: 'unreadable' };
    }
  }

  private checkSize(onDisk: number): void {
    // A file can hold fewer octets than it is served as (LF line ends), never more.
    if (onDisk > this.announced) {
      this.log.warn({ file: this.name, announced: this.announced, onDisk }, 'message larger than its name says: sent up to the announced size');
    }
  }
}

const EMPTY_BODY: MessageBody = { next: () => Promise.resolve(undefined), close: () => undefined };

function readWholeSync(fd: number, buffer: Buffer, limit: number): Buffer {
  let length = 0;
  while (length < limit) {
    const n = readSync(fd, buffer, length, limit - length, null);
    if (n === 0) break;
    length += n;
  }
  return buffer.subarray(0, length);
}

/** A chunk at a time through the thread pool, into the caller's buffer or its own, never past the announced size. */
class StreamedBody implements MessageBody {
  private buffer: Buffer | undefined;
  private reading: Promise<Buffer | undefined> | undefined;
  private closed = false;

  constructor(
    private readonly fd: number,
    private remaining: number,
  ) {}

  next(into?: Buffer): Promise<Buffer | undefined> {
    if (this.closed || this.remaining <= 0) return Promise.resolve(undefined);
    const target = into ?? (this.buffer ??= Buffer.allocUnsafe(CHUNK_OCTETS));
    const want = Math.min(CHUNK_OCTETS, this.remaining, target.length);
    const reading = new Promise<Buffer | undefined>((resolve, reject) => {
      read(this.fd, target, 0, want, null, (error, n) => {
        if (error) return reject(error);
        this.remaining -= n;
        resolve(n === 0 ? undefined : target.subarray(0, n));
      });
    });
    this.reading = reading;
    return reading;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const fd = this.fd;
    // A read still in flight (the session ended mid-reply) must finish before the fd is closed.
    const after = this.reading ?? Promise.resolve(undefined);
    after.then(
      () => close(fd, () => undefined),
      () => close(fd, () => undefined),
    );
  }
}
