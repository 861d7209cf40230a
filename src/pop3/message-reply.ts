// RETR and TOP replies as chunks: the status line, the encoded body and the terminator -- or the
// -ERR when the message cannot be opened. The connection writes each chunk (pieces written
// together) and waits for drain before taking the next, while the next part of the file is read.
// The reply's `delivered` runs when the connection asks for more after the terminator: never for
// an -ERR, nor when the client went away mid-reply (the connection stops asking).
import { CHUNK_OCTETS } from '../maildrop/message-file';
import { MessageEncoder } from './message-encoder';
import { statusLine, type Reply } from './replies';

export type MessageReply = Extract<Reply, { kind: 'message' }>;

const GONE = 'message was removed from the maildrop';
/** "\r\n.\r\n" at most. */
const TERMINATOR_ROOM = 5;
const CANNOT_READ = '[SYS/TEMP] message cannot be read now';

export async function* messageChunks(reply: MessageReply): AsyncGenerator<readonly Buffer[], void, undefined> {
  const opening = await reply.source.open();
  if (opening.kind !== 'opened') {
    yield [Buffer.from(statusLine(false, opening.kind === 'gone' ? GONE : CANNOT_READ))];
    return;
  }
  const { body } = opening;
  try {
    const encoder = new MessageEncoder(reply.bodyLines);
    const head = Buffer.from(statusLine(true, reply.head));
    let chunk = opening.first;
    if (opening.whole) {
      // A small message, read whole into a buffer of its own: sent as it is when already in wire
      // form (encodeShared), and head, body and terminator leave in one writev.
      yield chunk === undefined ? [head, encoder.end()] : [head, encoder.encodeShared(chunk), encoder.end()];
      reply.delivered?.();
      return;
    }
    // Streamed: each chunk is encoded straight into the buffer that is written (no joined copy),
    // the head before the first, the terminator after the last.
    let out: Buffer | undefined = chunk === undefined ? undefined : room(undefined, 0, head.length + MessageEncoder.maxEncodedLength(chunk.length));
    let used = out === undefined ? 0 : head.copy(out, 0);
    while (chunk !== undefined && out !== undefined) {
      used += encoder.encodeInto(chunk, out, used); // a copy: the body may reuse its buffer for the next read
      // Read ahead while this chunk drains; a failure is seen (and thrown) where it is awaited.
      const next = encoder.done ? undefined : body.next();
      next?.catch(() => undefined);
      if (used >= CHUNK_OCTETS) {
        // One buffer per write: a corked writev reports a wait (write() returns false) even when
        // the kernel takes it all at once, so every chunk would cost a drain round.
        yield [out.subarray(0, used)];
        out = undefined;
        used = 0;
      }
      chunk = next === undefined ? undefined : await next;
      if (chunk !== undefined) out = room(out, used, used + MessageEncoder.maxEncodedLength(chunk.length));
    }
    const terminator = encoder.end();
    if (out === undefined) {
      yield opening.first === undefined ? [head, terminator] : [terminator];
    } else {
      terminator.copy(out, used);
      yield [out.subarray(0, used + terminator.length)];
    }
    reply.delivered?.();
  } finally {
    body.close();
  }
}

/** Room for `need` octets and a terminator, keeping the first `used` octets of `out`. */
function room(out: Buffer | undefined, used: number, need: number): Buffer {
  const size = need + TERMINATOR_ROOM;
  if (out !== undefined && out.length >= size) return out;
  const bigger = Buffer.allocUnsafe(size);
  out?.copy(bigger, 0, 0, used);
  return bigger;
}
