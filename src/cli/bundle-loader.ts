// Loads the bundles of `r2d2 deliver` (scripts/bundle-deliver.js) with the V8 code cache that
// the build made beside each (`<bundle>.cache`): a process per message pays for compiling its
// code at every start, and mysql2's 1.2 MB were the larger part of `--recipient`'s start-up
// (README, "Speed"). V8 checks a cache against the source and its own version and flags and
// rejects a stale one; the bundle is then compiled as usual, so a missing or stale cache costs
// time, never correctness. A bundle's require of another bundle goes through here too.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';

type CommonJsWrapper = (exports: unknown, require: NodeJS.Require, module: { exports: unknown }, filename: string, dirname: string) => void;

/**
 * Compiles `file` (with `cachedData` when given) and runs its top level as a CommonJS module; a
 * require of another `*.bundle.js` goes to `otherBundle`. The build makes each cache with this
 * too, from the script it returns, so the cache is made and used on exactly the same text.
 */
export function runBundle(file: string, cachedData: Buffer | undefined, otherBundle: (file: string) => unknown): { exports: unknown; script: Script } {
  const source = readFileSync(file, 'utf8');
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, cachedData });
  const module = { exports: {} as unknown };
  const fileRequire = createRequire(file);
  const bundleRequire = Object.assign((id: string): unknown => (id.endsWith('.bundle.js') ? otherBundle(join(dirname(file), id)) : fileRequire(id)), fileRequire);
  (script.runInThisContext() as CommonJsWrapper).call(module.exports, module.exports, bundleRequire, module, file, dirname(file));
  return { exports: module.exports, script };
}

const loaded = new Map<string, unknown>();

/** The bundle's exports, compiled with its cache when V8 accepts it. */
export function loadBundle(file: string): unknown {
  const known = loaded.get(file);
  if (known !== undefined) return known;
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(`${file}.cache`);
  } catch {
    // no cache (a build without one): compiled as usual
  }
  const { exports } = runBundle(file, cachedData, loadBundle);
  loaded.set(file, exports);
  return exports;
}
