// A connection's buffers for RETR and TOP, kept from one chunk to the next so that a streamed
// message allocates nothing per chunk: one output buffer the encoder writes into, and two read
// buffers, so that a chunk sent as it is (wire-form.ts) stays untouched while the next one is
// read. Between replies one read and one output buffer of at most 64 KiB each stay, so that a
// session retrieving messages of some 30 KB allocates nothing per message either (a bigger
// message's buffers go: memory per session matters more than one allocation per large message). A buffer handed to the wire may still be referenced by
// a write in flight (the kernel took only part of it): buffers are reused only while the wire has
// nothing in flight, else a fresh one takes the old one's place.
import { CHUNK_OCTETS } from '../maildrop/message-file';

/** The most octets of a buffer kept between replies: a message of about 30 KB encodes into it. */
const KEPT_OCTETS = 64 * 1024;
const MIN_OUTPUT_OCTETS = 8 * 1024;

export class ReplyBuffers {
  private output: Buffer | undefined;
  private readonly reads: Array<Buffer | undefined> = [undefined, undefined];

  /** @param wireIdle true when every write handed to the wire has completed. */
  constructor(private readonly wireIdle: () => boolean) {}

  /** For a caller with no connection (tests, benches): nothing is ever reused. */
  static unshared(): ReplyBuffers {
    return new ReplyBuffers(() => false);
  }

  /** A buffer of at least `octets` to encode into; free until it is handed to the wire. */
  forOutput(octets: number): Buffer {
    const kept = this.output;
    if (kept !== undefined && kept.length >= octets && this.wireIdle()) return kept;
    const fresh = Buffer.allocUnsafe(Math.max(octets, MIN_OUTPUT_OCTETS));
    this.output = fresh;
    return fresh;
  }

  /** A buffer of at least `octets` to read into: never `sending` (a chunk about to be sent as it is). */
  forReading(sending: Buffer | undefined, octets = CHUNK_OCTETS): Buffer {
    const first = this.reads[0];
    const slot = first !== undefined && sending !== undefined && first.buffer === sending.buffer ? 1 : 0;
    const kept = this.reads[slot];
    if (kept !== undefined && kept.length >= octets && this.wireIdle()) return kept;
    const fresh = Buffer.allocUnsafe(Math.max(octets, CHUNK_OCTETS));
    this.reads[slot] = fresh;
    return fresh;
  }

  /** The reply is over: a second read buffer and large ones go (the wire keeps what it still sends). */
  release(): void {
    const first = this.reads[0];
    this.reads[0] = first !== undefined && first.length <= KEPT_OCTETS ? first : undefined;
    this.reads[1] = undefined;
    if (this.output !== undefined && this.output.length > KEPT_OCTETS) this.output = undefined;
  }
}
