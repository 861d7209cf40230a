// r2d2's version, for `r2d2 --version` and the IMPLEMENTATION capability a server announces:
// one file under src/ for both, since the CLI and the engine process are apart.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The package version (package.json sits two levels above dist/src). */
export function version(): string {
  return (JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as { version: string }).version;
}
