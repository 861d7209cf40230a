// The RETR encoder's kernel in plain JS: the fallback where WebAssembly SIMD is not available.
// Native indexOf finds each LF; only the byte before it and the byte after it are looked at, and
// the input is copied in whole runs between the places where a CR or a "." goes in.
const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;

/**
 * Writes chunk, encoded, into out at offset and returns the bytes written (at most 2n): bare LF
 * becomes CRLF, a "." that starts a line gets another. prev is the byte before chunk in the
 * message (LF at its start, so that a first "." is stuffed).
 */
export function encodeJsInto(chunk: Buffer, prev: number, out: Buffer, offset: number): number {
  let o = offset;
  if (prev === LF && chunk[0] === DOT) out[o++] = DOT;
  let run = 0; // the first input byte not yet copied
  for (let lf = chunk.indexOf(LF); lf !== -1; lf = chunk.indexOf(LF, lf + 1)) {
    const bare = (lf === 0 ? prev : chunk[lf - 1]) !== CR;
    const dot = chunk[lf + 1] === DOT;
    if (!bare && !dot) continue;
    o += chunk.copy(out, o, run, lf);
    if (bare) out[o++] = CR;
    out[o++] = LF;
    if (dot) out[o++] = DOT;
    run = lf + 1;
  }
  return o + chunk.copy(out, o, run) - offset;
}
