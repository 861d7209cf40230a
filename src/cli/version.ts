/** The package version (package.json sits three levels above dist/src/cli). */
export function version(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pkg = require('../../../package.json') as { version: string };
  return pkg.version;
}
