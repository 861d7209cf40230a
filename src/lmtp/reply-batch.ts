// The replies to one pipelined group leave in one write. Postfix sends MAIL, RCPT... and DATA
// in one packet (RFC 2920) and waits for all their replies; smtp-server writes each reply as it
// is made, a send(2) each (on loopback each one also wakes the client). As Dovecot does it, the
// socket stays corked while smtp-server works through a chunk of input and is uncorked once it
// is done with that chunk, so that its replies go out together. smtp-server waits for 'drain'
// before the next command once the socket asks for it, and a corked socket never drains: past
// FLUSH_AT octets held, or as soon as the socket asks to drain, every cork held is let go.
// This reaches into smtp-server's connection (its parser's _write and its send), both declared
// in its own types; the lmtp tests drive pipelining, 100 recipients and DATA through it.
import type { SMTPServer } from 'smtp-server';

type Connection = SMTPServer['connections'] extends Set<infer C> ? C : never;

/** Well under a socket's 16 KiB high-water mark: replies held never make it ask to drain. */
const FLUSH_AT = 8 * 1024;

/** Corks `connection`'s socket for each chunk its parser handles (see above). */
export function batchReplies(connection: Connection): void {
  const parser = connection._parser;
  const socket = connection._socket;
  if (parser === false) return;
  let held = 0;
  const releaseAll = (): void => {
    for (; held > 0; held--) socket.uncork();
  };
  const write = parser._write;
  // The parser calls itself for what follows a mode change (commands after DATA's dot, the
  // message after DATA): each call holds one cork and lets it go when it calls back.
  parser._write = (chunk, encoding, next) => {
    socket.cork();
    held++;
    let called = false;
    write.call(parser, chunk, encoding, (error) => {
      if (!called) {
        called = true;
        if (held > 0) {
          held--;
          socket.uncork();
        }
      }
      next(error);
    });
  };
  const send = connection.send;
  connection.send = (code, data, context) => {
    send.call(connection, code, data, context);
    if (held > 0 && (socket.writableLength >= FLUSH_AT || socket.writableNeedDrain)) releaseAll();
  };
}

/** The connection of `sessionId` among `server`'s (smtp-server gives a session the connection's id). */
export function connectionOf(server: SMTPServer, sessionId: string): Connection | undefined {
  for (const c of server.connections) if (c.id === sessionId) return c;
  return undefined;
}
