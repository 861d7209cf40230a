#!/usr/bin/env node
'use strict';
// `r2d2 deliver` runs once per message, so its start-up is its cost: after tsc, the delivery
// path (dist/src/cli/deliver-main.js and the modules it reaches) becomes one file,
// dist/deliver.bundle.js, and mysql2 another, dist/mysql2.bundle.js, loaded only for
// --recipient on MySQL. One file each means no module resolution, no package.json look-ups
// and one read; measured in the README ("Speed"). bin/r2d2 uses the bundle only while it is
// newer than the last tsc build (dist/.tsbuildinfo); otherwise it runs dist/src as compiled.
const path = require('node:path');

const dist = path.join(__dirname, '..', 'dist');

async function main() {
  let esbuild;
  try {
    esbuild = require('esbuild');
  } catch {
    process.stderr.write('bundle-deliver: esbuild is not installed; r2d2 deliver runs unbundled\n');
    return;
  }
  const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'warning', legalComments: 'none' };
  await esbuild.build({ ...common, entryPoints: [require.resolve('mysql2/promise')], outfile: path.join(dist, 'mysql2.bundle.js') });
  const mysql2Apart = {
    name: 'mysql2-apart',
    setup(build) {
      build.onResolve({ filter: /^mysql2\/promise$/ }, () => ({ path: './mysql2.bundle.js', external: true }));
    },
  };
  await esbuild.build({
    ...common,
    entryPoints: [path.join(dist, 'src/cli/deliver-main.js')],
    outfile: path.join(dist, 'deliver.bundle.js'),
    // A native addon stays a require of the installed package.
    external: ['better-sqlite3'],
    plugins: [mysql2Apart],
  });
}

main().catch((error) => {
  process.stderr.write(`bundle-deliver: ${error.stack || error.message}\n`);
  process.exitCode = 1;
});
