// `store_crlf = yes` (Dovecot's mail_save_crlf): a message is stored as a POP3 client receives it,
// lines ending in CRLF, so its Z size (maildrop/rfc822-size.ts) is the file's size and RETR can
// send the file's bytes as they are. Other Maildir readers take CRLF files as well.
const CR = 0x0d;
const LF = 0x0a;
const CRLF = Buffer.from('\r\n');

/** Bare LF becomes CRLF, an existing CRLF (also split across chunks) and a lone CR stay. */
export class LfToCrlf {
  /** The last byte pushed; LF before any, so that an empty message gets no line end. */
  #last = LF;
  #empty = true;

  /** The chunk with its line ends made CRLF: chunk itself when it has no bare LF. */
  push(chunk: Buffer): Buffer {
    if (chunk.length === 0) return chunk;
    const before = this.#last;
    this.#last = chunk[chunk.length - 1] as number;
    this.#empty = false;
    let bare = 0;
    for (let lf = chunk.indexOf(LF); lf !== -1; lf = chunk.indexOf(LF, lf + 1)) {
      if ((lf === 0 ? before : chunk[lf - 1]) !== CR) bare++;
    }
    if (bare === 0) return chunk;
    const out = Buffer.allocUnsafe(chunk.length + bare);
    let length = 0;
    let from = 0;
    for (let lf = chunk.indexOf(LF); lf !== -1; lf = chunk.indexOf(LF, lf + 1)) {
      if ((lf === 0 ? before : chunk[lf - 1]) === CR) continue;
      length += chunk.copy(out, length, from, lf);
      out[length++] = CR;
      from = lf; // the LF goes out with the next run
    }
    length += chunk.copy(out, length, from);
    return out.subarray(0, length);
  }

  /** A final CRLF when the message did not end with a line end (RFC 5322 §2.1: lines end in CRLF). */
  end(): Buffer {
    return this.#empty || this.#last === LF ? Buffer.alloc(0) : CRLF;
  }
}
