import type { Socket } from 'node:net';
import type { Clock } from '../../pop3/clock';
import { parseProxyHeader, type ProxyHeader } from './header';

export type HeaderRead = { readonly kind: 'header'; readonly header: ProxyHeader } | { readonly kind: 'failed'; readonly reason: string };

/**
 * Reads the PROXY header that must open a connection from a trusted proxy, within `timeoutMs`.
 * On success the socket is left paused with whatever followed the header (a pipelined command,
 * a TLS ClientHello) put back in front of its buffer, for the next reader. On failure the
 * caller drops the connection: the spec forbids guessing that no header was meant.
 */
export function readProxyHeader(socket: Socket, timeoutMs: number, clock: Clock): Promise<HeaderRead> {
  return new Promise((resolve) => {
    let buffered: Buffer = Buffer.alloc(0);
    let done = false;
    const finish = (result: HeaderRead, rest?: Buffer): void => {
      if (done) return;
      done = true;
      timer.cancel();
      socket.off('data', onData).off('end', onEnd).off('close', onEnd);
      if (result.kind === 'header') {
        socket.pause();
        if (rest !== undefined && rest.length > 0) socket.unshift(rest);
      }
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      const parsed = parseProxyHeader(buffered);
      if (parsed.kind === 'incomplete') return;
      if (parsed.kind === 'invalid') finish({ kind: 'failed', reason: `malformed PROXY header: ${parsed.reason}` });
      else finish({ kind: 'header', header: parsed.header }, buffered.subarray(parsed.length));
    };
    const onEnd = (): void =>
      finish({ kind: 'failed', reason: buffered.length === 0 ? 'closed before the PROXY header' : 'PROXY header truncated: closed before its end' });
    const timer = clock.timer(timeoutMs, () =>
      finish({ kind: 'failed', reason: buffered.length === 0 ? 'no PROXY header in time' : 'PROXY header incomplete in time' }),
    );
    // Kept after the header too: a reset between here and the session's own handlers must not
    // be an unhandled 'error' event; the session sees the close.
    socket.on('error', () => undefined);
    socket.on('data', onData).on('end', onEnd).on('close', onEnd);
  });
}
