// `r2d2 deliver`'s bundles are loaded with the V8 code cache the build writes beside them: a
// cache that is missing, garbage or made from other code must cost time, never a wrong result.
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { loadBundle, wrapBundle } from '../../src/cli/bundle-loader';

const MAIN = "exports.value = 41 + 1;\nexports.other = require('./helper.bundle.js').name;\nexports.path = require('node:path').basename(__filename);\n";
const HELPER = "exports.name = 'helper';\n";

function bundles(t: Test, cache: (dir: string) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'r2d2-bundle-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'main.bundle.js'), MAIN);
  writeFileSync(join(dir, 'helper.bundle.js'), HELPER);
  cache(dir);
  return join(dir, 'main.bundle.js');
}

const codeCacheOf = (source: string): Buffer => {
  const script = new Script(wrapBundle(source), { filename: 'x.js' });
  return script.createCachedData();
};

const cases: Array<[string, (dir: string) => void]> = [
  ['no cache', () => undefined],
  ['its own cache', (dir) => writeFileSync(join(dir, 'main.bundle.js.cache'), codeCacheOf(MAIN))],
  ['a cache of garbage', (dir) => writeFileSync(join(dir, 'main.bundle.js.cache'), Buffer.from('not a code cache at all'))],
  ['the cache of other code', (dir) => writeFileSync(join(dir, 'main.bundle.js.cache'), codeCacheOf('exports.value = 7;'))],
];
for (const [name, cache] of cases) {
  t.test(name, async (t) => {
    const file = bundles(t, cache);
    t.same(loadBundle(file), { value: 42, other: 'helper', path: 'main.bundle.js' }, 'its exports, and another bundle required from it');
  });
}
