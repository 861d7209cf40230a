/**
 * r2d2's log line: `server.pop3.r2d2[13906]: [1] disconnected: peer quit, sequence="upsUr4d4q" delays="3"`.
 * Extra fields follow as key="value". Control characters in values are escaped, so a login
 * name holding CR/LF cannot forge a line; long values are cut.
 */
export const MAX_VALUE_LENGTH = 200;

/** Fields pino adds that the line does not repeat. */
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'session', 'v']);

export function escapeValue(value: string): string {
  const cut = value.length > MAX_VALUE_LENGTH ? value.slice(0, MAX_VALUE_LENGTH) + '...' : value;
  // eslint-disable-next-line no-control-regex
  return cut.replace(/[\x00-\x1f\x7f"\\]/g, (c) => (c === '"' ? '\\"' : c === '\\' ? '\\\\' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

export function formatRecord(tag: string, pid: number, record: Record<string, unknown>): string {
  const session = record['session'];
  let line = `${tag}[${pid}]: ${typeof session === 'number' ? `[${session}] ` : ''}${escapeMessage(String(record['msg'] ?? ''))}`;
  for (const [key, value] of Object.entries(record)) {
    if (HIDDEN.has(key) || value === undefined) continue;
    line += ` ${key}="${escapeValue(describe(value))}"`;
  }
  return line;
}

function escapeMessage(message: string): string {
  // eslint-disable-next-line no-control-regex
  return message.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && 'message' in value) {
    return String((value as { message: unknown }).message);
  }
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}
