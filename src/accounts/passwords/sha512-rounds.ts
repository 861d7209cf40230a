// SHA-crypt's $6$ round loop in WebAssembly (source: wasm/sha512-rounds.wat). In JavaScript each
// of the 5,000 rounds is a node:crypto call (~4 µs: 20 ms a login, ten times libxcrypt's); in the
// module the loop never leaves native 64-bit arithmetic. One instance per thread (the hashing
// pool's threads): each call is synchronous, so its memory is never shared.
import { SHA512_ROUNDS_WASM_BASE64 } from './sha512-rounds-bytes';

/** The module's memory layout (see the .wat). */
const P = 2048;
const S = 3072;
const C = 3136;
const MSG = 4096;
const MAX_P = 1024;
/** W, the padded block, the chaining value, P, S, C and MSG: all that held password-derived bytes. */
const WIPE_FROM = 640;
const WIPE_TO = MSG + 64 + 16 + 2 * MAX_P;
const MAX_S = 16;
/** What digest() may hash at once (tests): the room from MSG to the end of the page. */
const MAX_DIGEST = 65536 - MSG;

interface RoundsExports {
  memory: { buffer: ArrayBuffer };
  rounds(plen: number, slen: number, rounds: number): void;
  digest(src: number, len: number, out: number): void;
}

/** The slice of the WebAssembly API this file uses (the project's lib has no DOM types). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

function instantiate(): { kernel: RoundsExports; memory: Buffer } | undefined {
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (api === undefined) return undefined; // node --jitless: sha-crypt.ts loops in JavaScript
  try {
    const kernel = new api.Instance(new api.Module(Buffer.from(SHA512_ROUNDS_WASM_BASE64, 'base64')), {}).exports as RoundsExports;
    // One fixed page (min = max): this view is never detached by a grow.
    return { kernel, memory: Buffer.from(kernel.memory.buffer) };
  } catch {
    return undefined;
  }
}

const loaded = instantiate();

export const sha512RoundsAvailable = loaded !== undefined;

/**
 * Step 21 of SHA-crypt for $6$: `rounds` rounds from digest `c` with the P and S sequences.
 * undefined when the module is not available or P is longer than it holds (the caller loops in
 * JavaScript then). The password-derived bytes are wiped from the module's memory after.
 */
export function sha512Rounds(c: Buffer, pBytes: Buffer, sBytes: Buffer, rounds: number): Buffer | undefined {
  if (loaded === undefined || pBytes.length > MAX_P || sBytes.length > MAX_S || c.length !== 64) return undefined;
  const { kernel, memory } = loaded;
  pBytes.copy(memory, P);
  sBytes.copy(memory, S);
  c.copy(memory, C);
  try {
    kernel.rounds(pBytes.length, sBytes.length, rounds);
    return Buffer.from(memory.subarray(C, C + 64));
  } finally {
    memory.fill(0, WIPE_FROM, WIPE_TO);
  }
}

/** SHA-512 of `data` in the module (for tests); undefined when unavailable or too long. */
export function sha512InModule(data: Buffer): Buffer | undefined {
  if (loaded === undefined || data.length > MAX_DIGEST) return undefined;
  const { kernel, memory } = loaded;
  data.copy(memory, MSG);
  kernel.digest(MSG, data.length, C);
  return Buffer.from(memory.subarray(C, C + 64));
}
