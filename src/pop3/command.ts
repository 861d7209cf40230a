/** A parsed command line: the keyword upper-cased, its arguments, and the raw argument text. */
export interface Command {
  readonly name: string;
  readonly args: readonly string[];
  /** Everything after the keyword and one space: PASS takes it whole, spaces included (RFC 1939 §7). */
  readonly rest: string;
}

export type ParseResult =
  | { readonly kind: 'command'; readonly command: Command }
  | { readonly kind: 'invalid'; readonly reason: string };

const KEYWORD = /^[A-Za-z]{1,8}$/;

/**
 * Parses one command line (without its CRLF). Keywords are ASCII letters, case-insensitive
 * (RFC 1939 §3); arguments are printable. Control bytes anywhere make the line invalid; bytes
 * >= 0x80 are allowed in arguments only (UTF-8 login names and passwords).
 */
export function parseCommand(line: Buffer): ParseResult {
  if (line.length === 0) return { kind: 'invalid', reason: 'empty command' };
  for (const byte of line) {
    if (byte < 0x20 || byte === 0x7f) return { kind: 'invalid', reason: 'invalid characters in command' };
  }
  const text = line.toString('utf8');
  const space = text.indexOf(' ');
  const keyword = space === -1 ? text : text.slice(0, space);
  if (!KEYWORD.test(keyword)) return { kind: 'invalid', reason: 'unknown command' };
  const rest = space === -1 ? '' : text.slice(space + 1);
  const args = rest.split(' ').filter((a) => a.length > 0);
  return { kind: 'command', command: { name: keyword.toUpperCase(), args, rest } };
}
