// What nginx's mail auth_http module asks (ngx_mail_auth_http_module): one HTTP/1.0 GET per
// login with the credentials in headers. Auth-User and Auth-Pass come URL-escaped (nginx's
// ngx_escape_uri with NGX_ESCAPE_MAIL_AUTH: space, '%', control and non-ASCII octets as %XX).
import type { IncomingHttpHeaders } from 'node:http';

export interface AuthRequest {
  /** `plain` for USER/PASS and AUTH PLAIN/LOGIN; apop and cram-md5 send no password. */
  readonly method: string;
  readonly user: string;
  readonly password: string;
  /** `pop3`, `imap` or `smtp`. */
  readonly protocol: string;
  /** Which try this is within one client connection (nginx counts from 1). */
  readonly attempt: number | undefined;
  /** The client's address as nginx saw it (only believed from trusted_proxies). */
  readonly clientIp: string | undefined;
}

export type RequestRead = { readonly kind: 'request'; readonly request: AuthRequest } | { readonly kind: 'unusable'; readonly reason: string };

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** %XX to octets, then UTF-8 (as a POP3 USER/PASS line is read); a '%' without two hex digits stays. */
export function nginxUnescape(value: string): string {
  const bytes = Buffer.from(value, 'latin1');
  const out = Buffer.alloc(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] ?? 0;
    const hex = byte === 0x25 && i + 2 < bytes.length ? bytes.subarray(i + 1, i + 3).toString('latin1') : '';
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      out[n++] = parseInt(hex, 16);
      i += 2;
    } else out[n++] = byte;
  }
  return out.subarray(0, n).toString('utf8');
}

export function readAuthRequest(headers: IncomingHttpHeaders): RequestRead {
  const user = header(headers, 'auth-user');
  const password = header(headers, 'auth-pass');
  if (user === undefined || password === undefined) return { kind: 'unusable', reason: 'no Auth-User or Auth-Pass header' };
  const attempt = Number(header(headers, 'auth-login-attempt'));
  return {
    kind: 'request',
    request: {
      method: (header(headers, 'auth-method') ?? 'plain').toLowerCase(),
      user: nginxUnescape(user),
      password: nginxUnescape(password),
      protocol: (header(headers, 'auth-protocol') ?? 'pop3').toLowerCase(),
      attempt: Number.isSafeInteger(attempt) && attempt > 0 ? attempt : undefined,
      clientIp: header(headers, 'client-ip')?.trim(),
    },
  };
}
