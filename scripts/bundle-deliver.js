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
/** Less to read and parse per start; identifiers kept, so stack traces and class names still read. */
const MINIFY = { minifyWhitespace: true, minifySyntax: true };

async function main() {
  let esbuild;
  try {
    esbuild = require('esbuild');
  } catch {
    process.stderr.write('bundle-deliver: esbuild is not installed; r2d2 deliver runs unbundled\n');
    return;
  }
  const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'warning', legalComments: 'none', ...MINIFY };
  // mysql2, both its callback API (the accounts' pool) and its promise API (single connections),
  // in a file of its own: `--maildir` and SQLite deliveries never read or parse it.
  await esbuild.build({
    ...common,
    stdin: { contents: "exports.callback = require('mysql2');\nexports.promise = require('mysql2/promise');\n", resolveDir: path.join(__dirname, '..'), loader: 'js' },
    outfile: path.join(dist, 'mysql2.bundle.js'),
  });
  const mysql2Apart = {
    name: 'mysql2-apart',
    setup(build) {
      build.onResolve({ filter: /^mysql2(\/promise)?$/ }, (args) => ({ path: args.path, namespace: 'mysql2-apart' }));
      build.onLoad({ filter: /.*/, namespace: 'mysql2-apart' }, (args) => ({
        contents: `module.exports = require('./mysql2.bundle.js').${args.path === 'mysql2' ? 'callback' : 'promise'};`,
        loader: 'js',
      }));
      build.onResolve({ filter: /^\.\/mysql2\.bundle\.js$/ }, () => ({ path: './mysql2.bundle.js', external: true }));
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
  for (const bundle of ['mysql2.bundle.js', 'deliver.bundle.js']) writeCodeCache(path.join(dist, bundle));
}

/**
 * V8's code cache of a bundle, made after running its top level (mysql2's initialisation
 * compiles much of it), for dist/src/cli/bundle-loader.js: mysql2's load went from about 50 to
 * 33 ms of CPU with it. Made by the same Node that runs r2d2 (V8 rejects another version's).
 */
function writeCodeCache(file) {
  const { writeFileSync } = require('node:fs');
  const { runBundle } = require(path.join(dist, 'src/cli/bundle-loader.js'));
  // Another bundle is not run here: each cache holds its own file's code.
  const { script } = runBundle(file, undefined, () => ({}));
  writeFileSync(`${file}.cache`, script.createCachedData());
}

main().catch((error) => {
  process.stderr.write(`bundle-deliver: ${error.stack || error.message}\n`);
  process.exitCode = 1;
});
