// Why a TLS handshake failed, as a label with few values (never the peer, never free text).
import type { TLSSocket } from 'node:tls';
import type { HandshakeOutcome } from './hooks';

const BY_CODE: Readonly<Record<string, string>> = {
  // The client offers only versions below min_tls_version (SSLv3, TLS 1.0, 1.1).
  ERR_SSL_UNSUPPORTED_PROTOCOL: 'protocol_version',
  ERR_SSL_NO_SHARED_CIPHER: 'no_shared_cipher',
  // Plaintext (a POP3 client without TLS, an HTTP request) on an implicit-TLS port.
  ERR_SSL_HTTP_REQUEST: 'not_tls',
  ERR_SSL_WRONG_VERSION_NUMBER: 'not_tls',
  ECONNRESET: 'closed',
  EPIPE: 'closed',
};

export function handshakeFailed(error: unknown): HandshakeOutcome {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && BY_CODE[code] !== undefined) return { ok: false, reason: BY_CODE[code] };
  // start-tls.ts's own two reasons.
  if (message === 'handshake timed out') return { ok: false, reason: 'timeout' };
  if (message === 'closed during handshake') return { ok: false, reason: 'closed' };
  return { ok: false, reason: 'other' };
}

export function handshakeDone(socket: TLSSocket): HandshakeOutcome {
  return { ok: true, version: socket.getProtocol() ?? 'unknown' };
}
