// RETR and TOP replies as chunks: the status line, the encoded body and the terminator -- or the
// -ERR when the message cannot be opened. The connection writes each chunk (pieces written
// together) and waits for drain before taking the next, while the next part of the file is read.
import { CHUNK_OCTETS } from '../maildrop/message-file';
import { MessageEncoder } from './message-encoder';
import { statusLine, type Reply } from './replies';

export type MessageReply = Extract<Reply, { kind: 'message' }>;

const GONE = 'message was removed from the maildrop';
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
      // A small message: head, body and terminator in one writev, no joined copy.
      yield chunk === undefined ? [head, encoder.end()] : [head, encoder.encode(chunk), encoder.end()];
      return;
    }
    let parts: Buffer[] = [head];
    let pending = head.length;
    while (chunk !== undefined) {
      const out = encoder.encode(chunk); // a copy: the body may reuse its buffer for the next read
      // Read ahead while this chunk drains; a failure is seen (and thrown) where it is awaited.
      const next = encoder.done ? undefined : body.next();
      next?.catch(() => undefined);
      parts.push(out);
      pending += out.length;
      if (pending >= CHUNK_OCTETS) {
        // One buffer per streamed chunk: a corked writev reports a wait (write() returns false)
        // even when the kernel takes it all at once, so every chunk would cost a drain round.
        yield [joined(parts, pending)];
        parts = [];
        pending = 0;
      }
      chunk = next === undefined ? undefined : await next;
    }
    parts.push(encoder.end());
    yield [joined(parts)];
  } finally {
    body.close();
  }
}

const joined = (parts: readonly Buffer[], length?: number): Buffer => (parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, length));
