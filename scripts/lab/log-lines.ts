// Reading what the collector received from every r2d2 host: RFC 5424 lines with the sender's
// timestamp (ms), host name, pid and severity, and r2d2's own `[N] text key="value"` message.
import { readFileSync } from 'node:fs';

export interface LogLine {
  /** The sender's clock (one clock for every namespace of the machine), ms since the epoch. */
  readonly at: number;
  readonly host: string;
  readonly pid: number;
  /** Syslog severity: 3 error, 4 warning, 6 info, 7 debug. */
  readonly severity: number;
  /** `host/pid/N` for a session's line; undefined for the server's own lines. */
  readonly session: string | undefined;
  /** The message without the `[N] ` prefix and its fields. */
  readonly text: string;
  readonly fields: ReadonlyMap<string, string>;
}

const RFC5424 = /^\d+ <(\d+)>1 (\S+) (\S+) \S+ (\d+) - - (.*)$/;
const FIELD = /(\w+)="((?:[^"\\]|\\.)*)"/g;

export function parseLine(raw: string): LogLine | undefined {
  const m = RFC5424.exec(raw);
  if (m === null) return undefined;
  const [, pri, time, host, pid, message] = m;
  if (pri === undefined || time === undefined || host === undefined || pid === undefined || message === undefined) return undefined;
  const numbered = /^\[(\d+)\] (.*)$/.exec(message);
  const body = numbered?.[2] ?? message;
  const fields = new Map<string, string>();
  for (const f of body.matchAll(FIELD)) if (f[1] !== undefined && f[2] !== undefined) fields.set(f[1], f[2].replace(/\\(.)/g, '$1'));
  const firstField = body.search(/ \w+="/);
  return {
    at: Date.parse(time),
    host,
    pid: Number(pid),
    severity: Number(pri) % 8,
    session: numbered?.[1] === undefined ? undefined : `${host}/${pid}/${numbered[1]}`,
    text: firstField === -1 ? body : body.slice(0, firstField),
    fields,
  };
}

export function readLog(file: string): LogLine[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .map(parseLine)
    .filter((l): l is LogLine => l !== undefined)
    .sort((a, b) => a.at - b.at);
}

/** One session as its host logged it. */
export interface LoggedSession {
  readonly key: string;
  readonly host: string;
  readonly lines: LogLine[];
  /** The client's source port (PROXY protocol) or undefined. */
  port: string | undefined;
  /** HAProxy's health check (a v2 LOCAL header). */
  healthCheck: boolean;
  user: string | undefined;
  loginAt: number | undefined;
  /** When it stopped holding the maildrop: `maildrop lock releasing`, a lease lost or expired, or its end. */
  heldUntil: number | undefined;
  disconnect: string | undefined;
}

export function sessions(lines: readonly LogLine[]): Map<string, LoggedSession> {
  const all = new Map<string, LoggedSession>();
  for (const line of lines) {
    if (line.session === undefined) continue;
    let s = all.get(line.session);
    if (s === undefined) {
      s = { key: line.session, host: line.host, lines: [], port: undefined, healthCheck: false, user: undefined, loginAt: undefined, heldUntil: undefined, disconnect: undefined };
      all.set(line.session, s);
    }
    s.lines.push(line);
    if (line.text.startsWith('connected')) {
      s.port = line.fields.get('port');
      s.healthCheck = line.fields.get('proxy_command') === 'local';
    } else if (line.text.startsWith('login ok')) {
      s.user = line.fields.get('user');
      s.loginAt = line.at;
    } else if (/^(maildrop lock releasing|maildrop lease lost|maildrop lease expired)/.test(line.text)) {
      s.heldUntil ??= line.at;
    } else if (line.text.startsWith('disconnected: ')) {
      s.disconnect = line.text.slice('disconnected: '.length).replace(/,$/, '');
      if (s.loginAt !== undefined) s.heldUntil ??= line.at;
    }
  }
  return all;
}
