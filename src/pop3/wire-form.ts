// Is a piece of a message already what RETR sends (RFC 1939 §3)? Then it goes out as it is, with
// no encoding: the case of a file stored with CRLF line ends (deliver { store_crlf = yes }) whose
// size is its Z size. Only a line starting with "." must change (dot-stuffing), and only a bare
// LF at the very end could make the terminator that follows unreadable: both are looked for
// here with native searches, never byte by byte in JS. The search starts from the dots (memchr:
// base64 lines have none, so a 64 KiB chunk is passed in a few µs), and after a few dots that
// start no line (prose) it takes one search for "\n." over the rest (about 8 GB/s here, where
// an LF every line stops memchr each time).
const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;
const LF_DOT = Buffer.from('\n.');
/** Dots looked at one by one before one search for "\n." takes the rest. */
const DOTS_ONE_BY_ONE = 8;

/**
 * True when `chunk` needs no dot-stuffing: no "." at its start after an LF (`prev`, the byte
 * before it in the message: LF at the message's start) nor after any LF inside it, and it does
 * not end with a bare LF. Callers only ask for files whose size on disk equals the announced
 * size, so the LFs inside are CRLF already (a file lying about its size may reach the client
 * with a bare LF inside, never with a line that could be taken for the terminator).
 */
export function inWireForm(chunk: Buffer, prev: number): boolean {
  const last = chunk.length - 1;
  if (last < 0) return false;
  if (prev === LF && chunk[0] === DOT) return false;
  if (chunk[last] === LF && (last === 0 ? prev : chunk[last - 1]) !== CR) return false;
  let dots = 0;
  for (let dot = chunk.indexOf(DOT); dot !== -1; dot = chunk.indexOf(DOT, dot + 1)) {
    if (dot > 0 && chunk[dot - 1] === LF) return false; // (the one at 0 was looked at above)
    if (++dots === DOTS_ONE_BY_ONE) return chunk.indexOf(LF_DOT, dot) === -1;
  }
  return true;
}
