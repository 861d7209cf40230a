// Today's encoder before bench/encoder (git show 03c15af:src/pop3/message-encoder.ts), kept as the
// micro-benchmark's baseline candidate.
const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;

/** The end of a multi-line reply: RFC 1939 §3. */
const TERMINATOR = Buffer.from('.\r\n');
const CRLF_TERMINATOR = Buffer.from('\r\n.\r\n');

/**
 * Turns a message file's bytes into the multi-line body of RETR/TOP: bare LF becomes CRLF
 * (existing CRLF kept), a line starting with "." gets another "." (RFC 1939 §3), and TOP's
 * limit stops after the header, its blank line and n body lines. Chunk boundaries may fall
 * anywhere. Un-stuffed, the output is exactly the size r2d2 lists: see maildrop/rfc822-size.
 */
export class OriginalMessageEncoder {
  /** Bytes of the current line so far, without its LF. */
  private lineLength = 0;
  private lastByte = -1;
  private inHeader = true;
  private bodyLinesSent = 0;
  private finished = false;

  /** @param bodyLines TOP's n, or undefined for the whole message (RETR). */
  constructor(private readonly bodyLines?: number) {
    if (bodyLines !== undefined && bodyLines < 0) throw new RangeError('bodyLines must be >= 0');
  }

  /** True once TOP has sent all it needs: the caller stops reading the file. */
  get done(): boolean {
    return this.finished;
  }

  encode(chunk: Buffer): Buffer {
    if (this.finished || chunk.length === 0) return Buffer.alloc(0);
    // Worst case ".\n" repeated: 2 bytes in, 4 out.
    const out = Buffer.allocUnsafe(chunk.length * 2 + 2);
    let o = 0;
    let pos = 0;
    while (pos < chunk.length) {
      if (this.lineLength === 0) {
        if (this.reachedTopLimit()) {
          this.finished = true;
          break;
        }
        if (chunk[pos] === DOT) out[o++] = DOT;
      }
      const lf = chunk.indexOf(LF, pos);
      const end = lf === -1 ? chunk.length : lf;
      if (end > pos) {
        o += chunk.copy(out, o, pos, end);
        this.lineLength += end - pos;
        this.lastByte = chunk[end - 1] as number;
      }
      if (lf === -1) break;
      const crPresent = this.lineLength > 0 && this.lastByte === CR;
      if (!crPresent) out[o++] = CR;
      out[o++] = LF;
      this.countLine(this.lineLength === (crPresent ? 1 : 0));
      this.lineLength = 0;
      this.lastByte = LF;
      pos = lf + 1;
    }
    if (this.lineLength === 0 && this.reachedTopLimit()) this.finished = true;
    return out.subarray(0, o);
  }

  /** What ends the reply: a CRLF if the message did not end with a line end, then ".CRLF". */
  end(): Buffer {
    this.finished = true;
    return this.lineLength === 0 ? TERMINATOR : CRLF_TERMINATOR;
  }

  private countLine(empty: boolean): void {
    if (this.bodyLines === undefined) return;
    if (this.inHeader) {
      if (empty) this.inHeader = false;
      return;
    }
    this.bodyLinesSent++;
  }

  private reachedTopLimit(): boolean {
    return this.bodyLines !== undefined && !this.inHeader && this.bodyLinesSent >= this.bodyLines;
  }
}
