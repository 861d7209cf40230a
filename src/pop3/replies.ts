// Replies are built only here: status indicators, CRLF and dot-stuffing of multi-line
// replies live in pop3/ and nowhere else.
import type { MessageFile } from '../maildrop/message-file';

export type Reply =
  | { readonly kind: 'line'; readonly ok: boolean; readonly text: string }
  /** RFC 5034's continuation request: "+ " and a base64 challenge (empty for PLAIN). */
  | { readonly kind: 'continue'; readonly challenge: string }
  | { readonly kind: 'multi'; readonly head: string; readonly lines: readonly string[] }
  /** RETR/TOP: the body comes from maildrop/, encoded as it is sent (message-reply.ts). */
  | {
      readonly kind: 'message';
      readonly head: string;
      readonly source: MessageFile;
      /** TOP's line count; undefined for RETR. */
      readonly bodyLines: number | undefined;
      /** Called once the whole reply, terminator included, has been handed to the connection. */
      readonly delivered?: () => void;
    };

export const ok = (text: string): Reply => ({ kind: 'line', ok: true, text });
export const proceed = (challenge = ''): Reply => ({ kind: 'continue', challenge });
export const err = (text: string): Reply => ({ kind: 'line', ok: false, text });
export const multiline = (head: string, lines: readonly string[]): Reply => ({ kind: 'multi', head, lines });
export const message = (head: string, source: MessageFile, bodyLines?: number, delivered?: () => void): Reply =>
  delivered === undefined ? { kind: 'message', head, source, bodyLines } : { kind: 'message', head, source, bodyLines, delivered };

export function statusLine(isOk: boolean, text: string): string {
  const indicator = isOk ? '+OK' : '-ERR';
  return text.length > 0 ? `${indicator} ${text}\r\n` : `${indicator}\r\n`;
}

/** A single-line reply or a whole multi-line reply (head, dot-stuffed lines, terminator) as one string. */
export function encodeReply(reply: Exclude<Reply, { kind: 'message' }>): string {
  if (reply.kind === 'line') return statusLine(reply.ok, reply.text);
  if (reply.kind === 'continue') return `+ ${reply.challenge}\r\n`;
  let out = statusLine(true, reply.head);
  for (const line of reply.lines) out += (line.startsWith('.') ? '.' : '') + line + '\r\n';
  return out + '.\r\n';
}
