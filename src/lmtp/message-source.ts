// The DATA of one LMTP transaction as smtp-server hands it over: a stream read once, its line
// ends made LF (line-ends.ts) unless kept CRLF (store_crlf), with the octets received counted.
// The first writer reads it; the stream is never destroyed by a writer that stops early (a disk
// error, a message over SIZE): drain() reads the rest, so the replies go out only after the
// client's final dot.
import type { Readable } from 'node:stream';
import { CrlfToLf } from './line-ends';

/** smtp-server's data stream: sizeExceeded is set once more than the SIZE limit has come. */
export type DataStream = Readable & { readonly sizeExceeded?: boolean };

/** Thrown into the writer when the message passes max_message_size: nothing more is written. */
export class OversizedMessage extends Error {
  constructor() {
    super('message exceeds the fixed maximum message size');
    this.name = 'OversizedMessage';
  }
}

export class MessageSource {
  /** Octets of DATA received (after dot-unstuffing, before the line ends are changed). */
  received = 0;
  /** The writer has started reading: another writer can no longer get the message. */
  started = false;
  ended = false;
  oversized = false;
  /** The stream failed before its end: the client went away mid-DATA. */
  aborted = false;
  private iterator: AsyncIterator<unknown> | undefined;
  private readonly lines: CrlfToLf | undefined;

  /** @param keepCrlf as received (`store_crlf`): the writer makes any bare LF CRLF. */
  constructor(
    private readonly stream: DataStream,
    keepCrlf = false,
  ) {
    this.lines = keepCrlf ? undefined : new CrlfToLf();
  }

  /** `prefix` (the recipient's header lines), then the message. Read it once. */
  async *chunks(prefix: Buffer): AsyncGenerator<Buffer> {
    if (prefix.length > 0) yield prefix;
    if (this.started) throw new Error('the message has been read already');
    this.started = true;
    const iterator = (this.iterator ??= this.stream.iterator({ destroyOnReturn: false }));
    for (;;) {
      const next = await iterator.next().catch((e: unknown) => {
        this.aborted = true;
        throw e;
      });
      if (next.done === true) {
        this.ended = true;
        const rest = this.lines?.end();
        if (rest !== undefined && rest.length > 0) yield rest;
        return;
      }
      const chunk = next.value instanceof Buffer ? next.value : Buffer.from(String(next.value), 'latin1');
      this.received += chunk.length;
      if (this.stream.sizeExceeded === true) {
        this.oversized = true;
        throw new OversizedMessage();
      }
      const out = this.lines === undefined ? chunk : this.lines.push(chunk);
      if (out.length > 0) yield out;
    }
  }

  /** Reads what the writer left (a failed write, an oversized message); never throws. */
  async drain(): Promise<void> {
    const iterator = this.iterator;
    if (this.ended || iterator === undefined) return; // never read: smtp-server drains it
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done === true) break;
        if (next.value instanceof Buffer) this.received += next.value.length;
      }
    } catch {
      this.aborted = true; // the client went away: nothing more will come
    }
    this.ended = true;
  }
}
