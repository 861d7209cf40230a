// The RETR encoder's kernel in WebAssembly SIMD (source: wasm/encoder-kernel.wat): the input is
// copied into the module's memory, encoded there 64 bytes at a time, and copied out. One module
// instance serves the whole thread: each call is synchronous, so the scratch memory is never shared.
import { ENCODER_KERNEL_WASM_BASE64 } from './encoder-kernel-bytes';

/** The most bytes one kernel call takes: a longer chunk goes through in pieces. */
const PIECE = 65536;
/** Where the kernel reads its input (the byte before it sits at INPUT - 1) and writes its output. */
const INPUT = 16;
const OUTPUT = 65600;

interface KernelExports {
  memory: { buffer: ArrayBuffer };
  encode(length: number): number;
}

/** The slice of the WebAssembly API this file uses (the project's lib has no DOM types). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

function instantiate(): { kernel: KernelExports; memory: Buffer } | undefined {
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (api === undefined) return undefined; // e.g. node --jitless: the JS kernel does the work
  try {
    const module = new api.Module(Buffer.from(ENCODER_KERNEL_WASM_BASE64, 'base64'));
    const kernel = new api.Instance(module, {}).exports as KernelExports;
    // The memory is fixed at 4 pages (min = max), so this view is never detached by a grow.
    return { kernel, memory: Buffer.from(kernel.memory.buffer) };
  } catch {
    return undefined; // no SIMD in this engine
  }
}

const loaded = instantiate();

/** True when the WebAssembly kernel runs here; false means encodeWasmInto must not be called. */
export const wasmKernelAvailable = loaded !== undefined;

/** Encodes one piece of at most PIECE bytes into the module's memory; returns its encoded length. */
function encodePiece(kernel: KernelExports, memory: Buffer, piece: Uint8Array, prev: number): number {
  memory[INPUT - 1] = prev;
  memory.set(piece, INPUT);
  memory[INPUT + piece.length] = 0; // what follows the last LF is not a "."
  return kernel.encode(piece.length);
}

function kernelOrThrow(): { kernel: KernelExports; memory: Buffer } {
  if (loaded === undefined) throw new Error('the WebAssembly encoder kernel is not available');
  return loaded;
}

/**
 * Writes chunk, encoded, into out at offset and returns the bytes written (at most 2n).
 * prev is the byte before chunk in the message (LF at its start). Same contract as encodeJsInto.
 */
export function encodeWasmInto(chunk: Uint8Array, prev: number, out: Uint8Array, offset: number): number {
  const { kernel, memory } = kernelOrThrow();
  let o = offset;
  for (let start = 0; start < chunk.length; start += PIECE) {
    const piece = chunk.length <= PIECE ? chunk : chunk.subarray(start, start + PIECE);
    const written = encodePiece(kernel, memory, piece, start === 0 ? prev : (chunk[start - 1] as number));
    o += memory.copy(out, o, OUTPUT, OUTPUT + written);
  }
  return o - offset;
}

/**
 * chunk encoded, in a Buffer of its own: of the exact size where chunk fits one piece. With
 * mayReturnInput, chunk itself when encoding changes nothing (already CRLF, no line starting
 * with "."), which saves the copy.
 */
export function encodeWasm(chunk: Buffer, prev: number, mayReturnInput: boolean): Buffer {
  const { kernel, memory } = kernelOrThrow();
  if (chunk.length > PIECE) {
    const out = Buffer.allocUnsafe(2 * chunk.length);
    const written = encodeWasmInto(chunk, prev, out, 0);
    return mayReturnInput && written === chunk.length ? chunk : out.subarray(0, written);
  }
  const written = encodePiece(kernel, memory, chunk, prev);
  // Encoding only ever inserts bytes: the same length means the same bytes.
  if (mayReturnInput && written === chunk.length) return chunk;
  const out = Buffer.allocUnsafe(written);
  memory.copy(out, 0, OUTPUT, OUTPUT + written);
  return out;
}
