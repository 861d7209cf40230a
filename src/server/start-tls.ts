import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { TlsContexts } from './tls-contexts';

/**
 * Runs the server side of a TLS handshake over an accepted socket (implicit TLS at connect,
 * or after STLS's +OK). Resolves with the secure socket; rejects when the handshake fails or
 * has not finished within the listener's handshake timeout. The raw socket is destroyed on failure.
 */
export function startTls(socket: Socket, contexts: TlsContexts): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = new TLSSocket(socket, {
      isServer: true,
      secureContext: contexts.context,
      SNICallback: contexts.sniCallback,
      requestCert: false,
    });
    const settle = (): void => {
      clearTimeout(timer);
      secure.off('error', fail);
      secure.off('close', closed);
      secure.off('end', closed);
    };
    const fail = (error: Error): void => {
      settle();
      secure.destroy();
      socket.destroy();
      reject(error);
    };
    const closed = (): void => fail(new Error('closed during handshake'));
    const timer = setTimeout(() => fail(new Error('handshake timed out')), contexts.handshakeTimeoutMs);
    secure.once('secure', () => {
      settle();
      resolve(secure);
    });
    secure.once('error', fail);
    secure.once('close', closed);
    secure.once('end', closed);
  });
}

/** "TLSv1.3 TLS_AES_256_GCM_SHA384", with " resumed" for a resumed session (a ticket), for the log. */
export function describeTls(socket: TLSSocket): string {
  // Both answer nothing once the socket is gone (getCipher's type says otherwise).
  const cipher = socket.getCipher() as ReturnType<TLSSocket['getCipher']> | undefined;
  return `${socket.getProtocol() ?? 'TLS'} ${cipher?.name ?? 'unknown cipher'}${socket.isSessionReused() ? ' resumed' : ''}`;
}
