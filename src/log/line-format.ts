/**
 * r2d2's log line: `server.pop3.r2d2[13906]: [1] disconnected: peer quit, sequence="upsUr4d4q" delays="3"`.
 * The part after `tag[pid]: ` is the message; extra fields follow it as key="value".
 * Control characters anywhere (CR, LF, NUL, ESC, C1 controls, Unicode line separators) are
 * written as \xNN / \uNNNN, and `"` and `\` in values are backslash-escaped, so a login name
 * holding CR/LF or a quote cannot forge a line or a field. Long values and lines are cut.
 */
export const MAX_VALUE_LENGTH = 200;
/** The message (after `tag[pid]: `) is cut here: a datagram stays well under any syslog limit. */
export const MAX_MESSAGE_LENGTH = 2000;
const CUT = '...';

/** Fields pino adds that the line does not repeat. */
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'session', 'v']);

// C0, DEL, C1, and the characters some viewers and parsers treat as line ends.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/g;
// eslint-disable-next-line no-control-regex
const CONTROL_OR_QUOTE = /[\x00-\x1f\x7f-\x9f\u2028\u2029"\\]/g;

function escapeChar(c: string): string {
  if (c === '"') return '\\"';
  if (c === '\\') return '\\\\';
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** Cuts at `max` UTF-16 units without splitting a surrogate pair, marking the cut. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--; // do not leave half a pair
  return text.slice(0, end) + CUT;
}

/** A field value as it appears between the quotes of key="value". */
export function escapeValue(value: string): string {
  return cut(value, MAX_VALUE_LENGTH).replace(CONTROL_OR_QUOTE, escapeChar);
}

/** Message text: control characters escaped (quotes are the message's own). */
export function escapeMessage(message: string): string {
  return message.replace(CONTROL, escapeChar);
}

/** `[N] msg key="value" ...`: what follows `tag[pid]: `. */
export function formatMessage(record: Record<string, unknown>): string {
  const session = record['session'];
  let text = `${typeof session === 'number' ? `[${session}] ` : ''}${escapeMessage(cut(String(record['msg'] ?? ''), MAX_VALUE_LENGTH * 2))}`;
  for (const [key, value] of Object.entries(record)) {
    if (HIDDEN.has(key) || value === undefined) continue;
    text += ` ${escapeMessage(key)}="${escapeValue(describe(value))}"`;
    if (text.length > MAX_MESSAGE_LENGTH) break;
  }
  return cut(text, MAX_MESSAGE_LENGTH);
}

/** The whole line as written to stdout and as an operator greps it: `tag[pid]: message`. */
export function formatRecord(tag: string, pid: number, record: Record<string, unknown>): string {
  return `${tag}[${pid}]: ${formatMessage(record)}`;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && 'message' in value) {
    return String((value as { message: unknown }).message);
  }
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}
