import { encodeJsInto } from './encoder-js';
import { encodeWasm, encodeWasmInto, wasmKernelAvailable } from './encoder-wasm';
import { inWireForm } from './wire-form';

const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;

/** The end of a multi-line reply: RFC 1939 §3. */
export const TERMINATOR = Buffer.from('.\r\n');
const CRLF_TERMINATOR = Buffer.from('\r\n.\r\n');

/** RETR's kernel: WebAssembly SIMD where the engine has it (bench/encoder measured it fastest), else JS. */
const encodeRetrInto = wasmKernelAvailable ? encodeWasmInto : encodeJsInto;

/**
 * Turns a message file's bytes into the multi-line body of RETR/TOP: bare LF becomes CRLF
 * (existing CRLF kept), a line starting with "." gets another "." (RFC 1939 §3), and TOP's
 * limit stops after the header, its blank line and n body lines. Chunk boundaries may fall
 * anywhere. Un-stuffed, the output is exactly the size r2d2 lists: see maildrop/rfc822-size.
 *
 * Three ways to feed it, mixable chunk by chunk, then end() once:
 * - encode(chunk): a new Buffer, the caller may reuse chunk at once.
 * - encodeShared(chunk): like encode, but returns chunk itself when it is already in wire form
 *   (CRLF line ends, no line starting with "."), so a message stored with CRLF goes out without
 *   a copy; the caller must leave chunk unchanged until it is written (a buffer of its own, as a
 *   whole small file read is, not the reused read buffer of the streamed path).
 * - encodeInto(chunk, out, offset): writes into a caller-owned (reusable) buffer and returns the
 *   bytes written; out needs maxEncodedLength(chunk.length) bytes from offset. No allocation, one
 *   copy: with a 256 KiB read buffer, a 512 KiB output buffer (and the head) serves every chunk
 *   (reuse it once the write that carries it has completed).
 */
export class MessageEncoder {
  /** The last byte seen; LF before the first, since a line starts there. */
  private lastByte = LF;
  /** TOP only: bytes of the current line so far, without its LF. */
  private lineLength = 0;
  private inHeader = true;
  private bodyLinesSent = 0;
  private finished = false;

  /** @param bodyLines TOP's n, or undefined for the whole message (RETR). */
  constructor(private readonly bodyLines?: number) {
    if (bodyLines !== undefined && bodyLines < 0) throw new RangeError('bodyLines must be >= 0');
  }

  /** The most bytes encodeInto writes for a chunk of this many: every byte doubled (".\n" -> "..\r\n"). */
  static maxEncodedLength(octets: number): number {
    return 2 * octets;
  }

  /** True once TOP has sent all it needs: the caller stops reading the file. */
  get done(): boolean {
    return this.finished;
  }

  encode(chunk: Buffer): Buffer {
    return this.encodeToBuffer(chunk, false);
  }

  /** Like encode, but may return chunk itself: see the class comment. */
  encodeShared(chunk: Buffer): Buffer {
    return this.encodeToBuffer(chunk, true);
  }

  /** Encodes chunk into out from offset; returns the bytes written (0 once done). */
  encodeInto(chunk: Buffer, out: Buffer, offset = 0): number {
    if (this.finished || chunk.length === 0) return 0;
    if (out.length - offset < MessageEncoder.maxEncodedLength(chunk.length)) {
      throw new RangeError(`encodeInto needs ${MessageEncoder.maxEncodedLength(chunk.length)} bytes of room, out has ${out.length - offset}`);
    }
    if (this.bodyLines !== undefined) return this.encodeTopInto(chunk, out, offset);
    const written = encodeRetrInto(chunk, this.lastByte, out, offset);
    this.lastByte = chunk[chunk.length - 1] as number;
    return written;
  }

  /**
   * RETR, a file whose size is its announced size: true when chunk is already in wire form
   * (wire-form.ts), counted as sent; the caller sends chunk itself. False: encode it instead.
   */
  passAsIs(chunk: Buffer): boolean {
    if (this.bodyLines !== undefined || this.finished || !inWireForm(chunk, this.lastByte)) return false;
    this.lastByte = chunk[chunk.length - 1] as number;
    return true;
  }

  /** What ends the reply: a CRLF if the message did not end with a line end, then ".CRLF". */
  end(): Buffer {
    this.finished = true;
    const atLineStart = this.bodyLines === undefined ? this.lastByte === LF : this.lineLength === 0;
    return atLineStart ? TERMINATOR : CRLF_TERMINATOR;
  }

  private encodeToBuffer(chunk: Buffer, mayReturnInput: boolean): Buffer {
    if (this.finished || chunk.length === 0) return Buffer.alloc(0);
    if (this.bodyLines === undefined && wasmKernelAvailable) {
      const encoded = encodeWasm(chunk, this.lastByte, mayReturnInput);
      this.lastByte = chunk[chunk.length - 1] as number;
      return encoded;
    }
    const out = Buffer.allocUnsafe(MessageEncoder.maxEncodedLength(chunk.length));
    return out.subarray(0, this.encodeInto(chunk, out));
  }

  /** TOP: line by line, counting lines, until the header and n body lines are out. */
  private encodeTopInto(chunk: Buffer, out: Buffer, offset: number): number {
    let o = offset;
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
    return o - offset;
  }

  private countLine(empty: boolean): void {
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
