// The encoders the micro-benchmark compares. Each encodes a whole message, chunk by chunk, and
// returns the bytes it produced (so that nothing can be optimised away).
import { MessageEncoder } from '../../src/pop3/message-encoder';
import { encodeJsInto } from '../../src/pop3/encoder-js';
import { encodeWasmInto, wasmKernelAvailable } from '../../src/pop3/encoder-wasm';
import { OriginalMessageEncoder } from './original-encoder';

export interface Candidate {
  name: string;
  encodeMessage(chunks: readonly Buffer[]): number;
}

const LF = 0x0a;
/** One output buffer reused across chunks, as a connection would keep one. */
const scratch = Buffer.allocUnsafe(MessageEncoder.maxEncodedLength(1 << 20));

function kernelCandidate(name: string, kernel: (chunk: Buffer, prev: number, out: Buffer, offset: number) => number): Candidate {
  return {
    name,
    encodeMessage(chunks) {
      let total = 0;
      let prev = LF;
      for (const chunk of chunks) {
        total += kernel(chunk, prev, scratch, 0);
        prev = chunk[chunk.length - 1] as number;
      }
      return total;
    },
  };
}

export const candidates: Candidate[] = [
  {
    name: 'memcpy (ceiling: Buffer.copy)',
    encodeMessage(chunks) {
      let total = 0;
      for (const chunk of chunks) total += chunk.copy(scratch, 0);
      return total;
    },
  },
  {
    name: 'original encode()',
    encodeMessage(chunks) {
      const encoder = new OriginalMessageEncoder();
      let total = 0;
      for (const chunk of chunks) total += encoder.encode(chunk).length;
      return total + encoder.end().length;
    },
  },
  kernelCandidate('js indexOf runs, into', encodeJsInto),
  ...(wasmKernelAvailable ? [kernelCandidate('wasm simd, into', encodeWasmInto)] : []),
  {
    name: 'MessageEncoder encode()',
    encodeMessage(chunks) {
      const encoder = new MessageEncoder();
      let total = 0;
      for (const chunk of chunks) total += encoder.encode(chunk).length;
      return total + encoder.end().length;
    },
  },
  {
    name: 'MessageEncoder encodeShared()',
    encodeMessage(chunks) {
      const encoder = new MessageEncoder();
      let total = 0;
      for (const chunk of chunks) total += encoder.encodeShared(chunk).length;
      return total + encoder.end().length;
    },
  },
  {
    name: 'MessageEncoder encodeInto()',
    encodeMessage(chunks) {
      const encoder = new MessageEncoder();
      let total = 0;
      for (const chunk of chunks) total += encoder.encodeInto(chunk, scratch, 0);
      return total + encoder.end().length;
    },
  },
];
