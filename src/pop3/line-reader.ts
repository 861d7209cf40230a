import { MAX_COMMAND_LINE_OCTETS } from './limits';

export type LineEvent =
  | { readonly kind: 'line'; readonly line: Buffer }
  | { readonly kind: 'too-long' };

const LF = 0x0a;
const CR = 0x0d;

/**
 * Splits the client's byte stream into command lines (CRLF, or a bare LF from lenient clients).
 * A line longer than the RFC 2449 limit is dropped up to its end and reported once, in order,
 * so pipelined commands after it are still answered in sequence. Memory per connection is
 * bounded by the limit plus the queued events. The limit may be a function, asked as bytes
 * arrive: a SASL response after "+ " may be longer than a command (limits.ts).
 */
export class LineReader {
  private readonly events: LineEvent[] = [];
  private partial: Buffer[] = [];
  private partialLength = 0;
  private discarding = false;

  private readonly limit: () => number;

  constructor(maxOctets: number | (() => number) = MAX_COMMAND_LINE_OCTETS) {
    this.limit = typeof maxOctets === 'number' ? () => maxOctets : maxOctets;
  }

  get queued(): number {
    return this.events.length;
  }

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const lf = chunk.indexOf(LF, start);
      if (lf === -1) {
        this.keepPartial(chunk.subarray(start));
        return;
      }
      this.keepPartial(chunk.subarray(start, lf));
      this.finishLine();
      start = lf + 1;
    }
  }

  next(): LineEvent | undefined {
    return this.events.shift();
  }

  private keepPartial(bytes: Buffer): void {
    if (this.discarding || bytes.length === 0) return;
    // The partial line may hold its CR; the limit counts CR and LF, so the CR plus content fits in max - 1.
    if (this.partialLength + bytes.length > this.limit() - 1) {
      this.discarding = true;
      this.partial = [];
      this.partialLength = 0;
      return;
    }
    this.partial.push(Buffer.from(bytes)); // copy: the socket may reuse its buffer
    this.partialLength += bytes.length;
  }

  private finishLine(): void {
    if (this.discarding) {
      this.discarding = false;
      this.events.push({ kind: 'too-long' });
      return;
    }
    let line = this.partial.length === 1 ? (this.partial[0] as Buffer) : Buffer.concat(this.partial, this.partialLength);
    this.partial = [];
    this.partialLength = 0;
    if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    if (line.length + 2 > this.limit()) {
      this.events.push({ kind: 'too-long' });
      return;
    }
    this.events.push({ kind: 'line', line });
  }
}
