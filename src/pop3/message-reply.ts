// RETR and TOP replies as chunks: the status line, the body and the terminator -- or the -ERR
// when the message cannot be opened. The connection writes each chunk (pieces written together)
// and waits for drain before taking the next, while the next part of the file is read.
// A file stored as it is sent (its size is its Z size, no line starts with ".") goes out as it
// is, chunk by chunk (wire-form.ts); everything else, and TOP, through the encoder, into the
// connection's reused output buffer (reply-buffers.ts).
// The reply's `delivered` runs when the connection asks for more after the terminator: never for
// an -ERR, nor when the client went away mid-reply (the connection stops asking).
import { CHUNK_OCTETS } from '../maildrop/message-file';
import { MessageEncoder } from './message-encoder';
import { ReplyBuffers } from './reply-buffers';
import { statusLine, type Reply } from './replies';

export type MessageReply = Extract<Reply, { kind: 'message' }>;

const GONE = 'message was removed from the maildrop';
/** "\r\n.\r\n" at most. */
const TERMINATOR_ROOM = 5;
const CANNOT_READ = '[SYS/TEMP] message cannot be read now';

export async function* messageChunks(reply: MessageReply, buffers = ReplyBuffers.unshared()): AsyncGenerator<readonly Buffer[], void, undefined> {
  const opening = await reply.source.open((octets) => buffers.forReading(undefined, octets));
  if (opening.kind !== 'opened') {
    yield [Buffer.from(statusLine(false, opening.kind === 'gone' ? GONE : CANNOT_READ))];
    return;
  }
  const { body } = opening;
  try {
    const encoder = new MessageEncoder(reply.bodyLines);
    const asIs = (chunk: Buffer): boolean => opening.sizeMatches && encoder.passAsIs(chunk);
    const head = Buffer.from(statusLine(true, reply.head));
    let chunk = opening.first;
    if (chunk === undefined) {
      yield [head, encoder.end()];
      reply.delivered?.();
      return;
    }
    if (opening.whole) {
      // A small message, read whole: head, body and terminator leave in one write (a writev
      // when the body goes as it is).
      yield asIs(chunk) ? [head, chunk, encoder.end()] : [encodeWithHead(encoder, buffers, head, chunk, true)];
      reply.delivered?.();
      return;
    }
    // Streamed: one write per chunk (the head with the first); a short chunk -- the last, as a
    // regular file is read in full chunks -- waits for the terminator to leave with it.
    let pending: Buffer | undefined = head;
    let held: { readonly pieces: Buffer[]; readonly encoded: boolean } | undefined;
    while (chunk !== undefined) {
      const sending = asIs(chunk);
      const encoded = sending ? undefined : encodeWithHead(encoder, buffers, pending, chunk, false);
      // Read ahead while this chunk drains (once it is encoded: the read may reuse its buffer),
      // never into a chunk still to be sent; a failure is seen (and thrown) where it is awaited.
      const next: Promise<Buffer | undefined> | undefined = encoder.done ? undefined : body.next(buffers.forReading(sending ? chunk : undefined));
      next?.catch(() => undefined);
      const pieces = encoded !== undefined ? [encoded] : pending === undefined ? [chunk] : [pending, chunk];
      pending = undefined;
      if (octets(pieces) < CHUNK_OCTETS) held = { pieces, encoded: encoded !== undefined };
      else yield pieces;
      chunk = next === undefined ? undefined : await next;
      if (held !== undefined && chunk !== undefined) {
        yield held.pieces;
        held = undefined;
      }
    }
    const terminator = encoder.end();
    if (held === undefined) yield [terminator];
    else yield held.encoded ? [appendInto(held.pieces[0] as Buffer, terminator)] : [...held.pieces, terminator];
    reply.delivered?.();
  } finally {
    body.close();
    buffers.release();
  }
}

/** `head` (when given), chunk encoded and, when `last`, the terminator: one buffer, the connection's. */
function encodeWithHead(encoder: MessageEncoder, buffers: ReplyBuffers, head: Buffer | undefined, chunk: Buffer, last: boolean): Buffer {
  const headOctets = head?.length ?? 0;
  const out = buffers.forOutput(headOctets + MessageEncoder.maxEncodedLength(chunk.length) + TERMINATOR_ROOM);
  let used = head === undefined ? 0 : head.copy(out, 0);
  used += encoder.encodeInto(chunk, out, used);
  if (last) used += encoder.end().copy(out, used);
  return out.subarray(0, used);
}

/** `tail` after `encoded`, in the room its output buffer keeps for the terminator. */
function appendInto(encoded: Buffer, tail: Buffer): Buffer {
  const grown = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.length + tail.length);
  tail.copy(grown, encoded.length);
  return grown;
}

const octets = (pieces: readonly Buffer[]): number => pieces.reduce((sum, piece) => sum + piece.length, 0);
