// The ceiling server's replies, built once at start: each message in POP3 wire form (CRLF line
// ends, dot-stuffed, status line and terminator included), so that a RETR is one write of a
// buffer already in memory. Pure: files in, buffers out.

export interface Maildrop {
  /** `RETR n` replies, whole: "+OK <octets> octets\r\n" + body + ".\r\n". */
  readonly retr: readonly Buffer[];
  readonly stat: Buffer;
  readonly list: Buffer;
  readonly uidl: Buffer;
}

const CRLF = Buffer.from('\r\n');
const TERMINATOR = Buffer.from('.\r\n');

/** A message file's bytes as POP3 sends them: every line ends in CRLF, a leading "." is doubled. */
export function wireBody(file: Buffer): Buffer {
  const parts: Buffer[] = [];
  let start = 0;
  while (start < file.length) {
    const lf = file.indexOf(0x0a, start);
    const end = lf < 0 ? file.length : lf;
    const line = file.subarray(start, end > start && file[end - 1] === 0x0d ? end - 1 : end);
    if (line[0] === 0x2e) parts.push(Buffer.from('.'));
    parts.push(line, CRLF);
    start = end + 1;
  }
  return Buffer.concat(parts);
}

/** Replies for one maildrop; `uids[i]` is message i+1's UIDL. */
export function maildrop(files: readonly Buffer[], uids: readonly string[]): Maildrop {
  const bodies = files.map(wireBody);
  const total = bodies.reduce((n, b) => n + b.length, 0);
  const multi = (lines: readonly string[]): Buffer => Buffer.from(`+OK\r\n${lines.map((l) => `${l}\r\n`).join('')}.\r\n`, 'latin1');
  return {
    retr: bodies.map((b) => Buffer.concat([Buffer.from(`+OK ${b.length} octets\r\n`), b, TERMINATOR])),
    stat: Buffer.from(`+OK ${bodies.length} ${total}\r\n`),
    list: multi(bodies.map((b, i) => `${i + 1} ${b.length}`)),
    uidl: multi(uids.map((u, i) => `${i + 1} ${u}`)),
  };
}
