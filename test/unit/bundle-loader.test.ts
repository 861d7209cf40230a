// `r2d2 deliver`'s bundles are loaded with the V8 code cache the build writes beside them: a
// cache that is missing, garbage or made from other code must cost time, never a wrong result.
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBundle, runBundle } from '../../src/cli/bundle-loader';

const MAIN = "exports.value = 41 + 1;\nexports.other = require('./helper.bundle.js').name;\nexports.path = require('node:path').basename(__filename);\n";
const HELPER = "exports.name = 'helper';\n";

function bundles(t: Test, cache: (t: Test, dir: string) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'r2d2-bundle-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'main.bundle.js'), MAIN);
  writeFileSync(join(dir, 'helper.bundle.js'), HELPER);
  cache(t, dir);
  return join(dir, 'main.bundle.js');
}

/** A cache made as the build makes it, of `source` in a file of its own. */
function codeCacheOf(t: Test, source: string): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'r2d2-bundle-cache-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'other.bundle.js');
  writeFileSync(file, source);
  return runBundle(file, undefined, () => ({ name: 'helper' })).script.createCachedData();
}

const cases: Array<[string, (t: Test, dir: string) => void]> = [
  ['no cache', () => undefined],
  ['its own cache', (t, dir) => writeFileSync(join(dir, 'main.bundle.js.cache'), codeCacheOf(t, MAIN))],
  ['a cache of garbage', (_t, dir) => writeFileSync(join(dir, 'main.bundle.js.cache'), Buffer.from('not a code cache at all'))],
  ['the cache of other code', (t, dir) => writeFileSync(join(dir, 'main.bundle.js.cache'), codeCacheOf(t, 'exports.value = 7;'))],
];
for (const [name, cache] of cases) {
  t.test(name, async (t) => {
    const file = bundles(t, cache);
    t.same(loadBundle(file), { value: 42, other: 'helper', path: 'main.bundle.js' }, 'its exports, and another bundle required from it');
  });
}

t.test('a cache made as the build makes it is taken: the same wrapped text both ways', async (t) => {
  const file = bundles(t, () => undefined);
  // Each in a process of its own: within one, V8 would find the script in its own compilation cache.
  const loader = join(__dirname, '../../src/cli/bundle-loader.js');
  const node = (code: string): string => execFileSync(process.execPath, ['-e', code], { encoding: 'utf8', env: {} }).trim();
  node(`const { runBundle } = require(${JSON.stringify(loader)}); require('fs').writeFileSync(${JSON.stringify(file + '.made')}, runBundle(${JSON.stringify(file)}, undefined, () => ({ name: 'helper' })).script.createCachedData());`);
  const rejected = (cache: string): string =>
    node(`const { runBundle } = require(${JSON.stringify(loader)}); console.log(runBundle(${JSON.stringify(file)}, require('fs').readFileSync(${JSON.stringify(cache)}), () => ({ name: 'helper' })).script.cachedDataRejected);`);
  writeFileSync(`${file}.garbage`, 'not a code cache at all');
  t.equal(rejected(`${file}.made`), 'false', 'V8 took the cache');
  t.equal(rejected(`${file}.garbage`), 'true', 'and says so when it does not');
});
