// An LMTP message arrives with CRLF line ends (RFC 5321 §2.3.8); a maildir holds LF ones, as
// `r2d2 deliver` (fed by Postfix's pipe) and Dovecot write them (unless deliver { store_crlf =
// yes }: then this is skipped, see deliver/crlf-store.ts). RETR turns every LF back into
// CRLF and the Z size counts it so (maildrop/rfc822-size.ts), so the size in the name is the
// octets received. A CR not followed by LF is kept as it is.

const CR = 0x0d;
const LF = 0x0a;

export class CrlfToLf {
  /** A CR that ended the last chunk: it pairs with an LF that may start the next. */
  #pendingCr = false;

  /** The chunk with each CRLF as LF (a chunk's final CR is held back for the next one). */
  push(chunk: Buffer): Buffer {
    if (chunk.length === 0) return chunk;
    const out = Buffer.allocUnsafe(chunk.length + 1);
    let length = 0;
    let from = 0;
    if (this.#pendingCr) {
      this.#pendingCr = false;
      if (chunk[0] !== LF) out[length++] = CR;
    }
    for (let cr = chunk.indexOf(CR); cr !== -1; cr = chunk.indexOf(CR, cr + 1)) {
      if (cr === chunk.length - 1) {
        length += chunk.copy(out, length, from, cr);
        from = chunk.length;
        this.#pendingCr = true;
        break;
      }
      if (chunk[cr + 1] !== LF) continue;
      length += chunk.copy(out, length, from, cr);
      from = cr + 1; // the LF is copied with the next piece
    }
    length += chunk.copy(out, length, from);
    return out.subarray(0, length);
  }

  /** What is left at the end of the message: a final lone CR. */
  end(): Buffer {
    const rest = this.#pendingCr ? Buffer.from([CR]) : Buffer.alloc(0);
    this.#pendingCr = false;
    return rest;
  }
}
