// Shared knobs and generators for the property-based tests (fast-check): short in CI, long with
// `npm run fuzz` (R2D2_FUZZ_RUNS). A failure prints fast-check's seed and the shrunk
// counterexample; R2D2_FUZZ_SEED=<seed> replays it.
import fc from 'fast-check';

const LONG = Number(process.env['R2D2_FUZZ_RUNS'] ?? '');

/** Runs of one property: `ci` normally; R2D2_FUZZ_RUNS x `scale` under `npm run fuzz`. */
export function runs(ci: number, scale = 1): number {
  return Number.isFinite(LONG) && LONG > 0 ? Math.max(1, Math.round(LONG * scale)) : ci;
}

/** fast-check parameters: the run count, and the seed to replay when R2D2_FUZZ_SEED is set. */
export function params<T>(ci: number, scale = 1): fc.Parameters<T> {
  const seed = process.env['R2D2_FUZZ_SEED'];
  return { numRuns: runs(ci, scale), includeErrorInReport: true, ...(seed !== undefined && seed !== '' ? { seed: Number(seed) } : {}) };
}

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const SPACE = 0x20;

/** A byte, biased towards the ones protocol code gets wrong: CR, LF, '.', space, NUL, 0x7f, 0xff. */
export const protocolByte: fc.Arbitrary<number> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(CR, LF, DOT, SPACE) },
  { weight: 1, arbitrary: fc.constantFrom(0x00, 0x7f, 0x80, 0xff, 0x09) },
  { weight: 4, arbitrary: fc.integer({ min: 0x21, max: 0x7e }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
);

/** Bytes made of protocol-ish bytes, and now and then long runs of one byte (long lines). */
export function protocolBytes(maxLength: number): fc.Arbitrary<Buffer> {
  const piece = fc.oneof(
    { weight: 8, arbitrary: fc.array(protocolByte, { maxLength: 40 }).map((a) => Buffer.from(a)) },
    { weight: 1, arbitrary: fc.tuple(protocolByte, fc.integer({ min: 1, max: 600 })).map(([b, n]) => Buffer.alloc(n, b)) },
    { weight: 2, arbitrary: fc.constantFrom('\r\n', '\n', '\r\n.\r\n', '.\r\n', '\n.\n', '..', '\r\r\n', '.\n').map((s) => Buffer.from(s)) },
  );
  return fc.array(piece, { maxLength: Math.max(1, Math.ceil(maxLength / 40)), size: 'medium' }).map((parts) => Buffer.concat(parts).subarray(0, maxLength));
}

/** Splits bytes at arbitrary points: the chunks a socket might deliver. */
export function chunked(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  if (bytes.length === 0) return [bytes];
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let start = 0;
  for (const p of points) {
    out.push(bytes.subarray(start, p));
    start = p;
  }
  out.push(bytes.subarray(start));
  return out;
}

export const cutPoints: fc.Arbitrary<number[]> = fc.array(fc.nat(), { maxLength: 12 });
