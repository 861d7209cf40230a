// `npm run lab [-- --short] [--seconds N] [--lease N] [--keep]`: builds the lab, runs it, prints
// the report; exit 0 when every check passed, 1 when one failed, 2 when the lab could not run.
// Run as root (network namespaces). Ctrl-C cleans up too.
import { runLab } from './lab';
import { namespacesUnavailable } from './netns';

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}

async function main(): Promise<number> {
  const why = await namespacesUnavailable();
  if (why !== undefined) {
    process.stderr.write(`r2d2 lab: cannot make network namespaces here (run as root): ${why}\n`);
    return 2;
  }
  const seconds = option('--seconds');
  const lease = option('--lease');
  const say = (line: string): void => {
    process.stderr.write(`[lab +${Math.round(process.uptime())} s] ${line}\n`);
  };
  const report = await runLab(
    {
      short: process.argv.includes('--short'),
      keep: process.argv.includes('--keep'),
      ...(seconds === undefined ? {} : { seconds: Number(seconds) }),
      ...(lease === undefined ? {} : { leaseSeconds: Number(lease) }),
    },
    say,
    (cleanup) => (cleanupOnSignal = cleanup),
  );
  process.stdout.write(`${report.text}\n`);
  return report.ok ? 0 : 1;
}

// A Ctrl-C or SIGTERM must not leave namespaces and servers behind: it runs the lab's cleanup,
// then exits (a second one exits at once).
let cleanupOnSignal: (() => Promise<void>) | undefined;
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write('r2d2 lab: stopping, cleaning up (again to quit at once)\n');
    void (cleanupOnSignal?.() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`r2d2 lab: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(2);
  },
);
