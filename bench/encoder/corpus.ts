// Typical mail for the encoder micro-benchmark, made from a fixed seed (same bytes every run):
// base64 attachment lines of 76 octets, text lines of 20-80 octets (now and then one starting
// with "."), and a mix (a header, a text part, a base64 part), each with CRLF or LF line ends.
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const WORDS = ['the', 'mail', 'server', 'sends', 'a', 'message', 'to', 'every', 'client', 'over', 'POP3', 'and', 'then', 'quits'];

/** A small deterministic PRNG (mulberry32), so that every run encodes the same bytes. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Shape = 'base64' | 'text' | 'mix';

function base64Line(next: () => number): string {
  let line = '';
  for (let i = 0; i < 76; i++) line += BASE64[Math.floor(next() * 64)];
  return line;
}

function textLine(next: () => number): string {
  const target = 20 + Math.floor(next() * 61);
  let line = next() < 0.01 ? '.' : '';
  while (line.length < target) line += (line.length > 0 ? ' ' : '') + WORDS[Math.floor(next() * WORDS.length)];
  return line.slice(0, target);
}

function lines(shape: Shape, octets: number, next: () => number): string[] {
  const out: string[] = [];
  let size = 0;
  const push = (l: string): void => {
    out.push(l);
    size += l.length + 2;
  };
  if (shape === 'mix') {
    for (let i = 0; i < 30; i++) push(`X-Header-${i}: ${textLine(next)}`);
    push('');
    while (size < octets * 0.3) push(textLine(next));
    push('');
  }
  while (size < octets) push(shape === 'text' ? textLine(next) : base64Line(next));
  return out;
}

/** A message of about `octets` bytes in this shape, with CRLF or LF line ends. */
export function makeMessage(shape: Shape, eol: '\r\n' | '\n', octets: number, seed = 1): Buffer {
  return Buffer.from(lines(shape, octets, random(seed)).join(eol) + eol, 'latin1');
}
