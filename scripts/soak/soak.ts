// npm run soak [-- --seconds N --warmup N --clients N --threads N --sample-every N]
// A real r2d2 under a bounded mixed load (test/helpers/soak.ts): prints the engine's and the
// supervisor's RSS and open fds at the baseline (after a warm-up), under load and after, and a
// verdict; exits 1 when fds do not come back to the baseline, RSS grows past a generous bound,
// a session fails or the server logs an internal error. Needs MariaDB as `npm test` does.
// Defaults: 300 s (R2D2_SOAK_SECONDS), 30 s warm-up, 16 clients, 2 worker threads.
import { formatReport, runSoak } from '../../test/helpers/soak';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const raw = i === -1 ? undefined : process.argv[i + 1];
  const value = Number(raw ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, got ${String(raw)}`);
  return value;
}

async function main(): Promise<void> {
  const seconds = option('seconds', Number(process.env['R2D2_SOAK_SECONDS'] ?? 300));
  const report = await runSoak({
    seconds,
    warmupSeconds: option('warmup', Math.min(30, Math.max(5, Math.round(seconds / 10)))),
    clients: option('clients', 16),
    threads: option('threads', 2),
    sampleEvery: option('sample-every', Math.max(5, Math.round(seconds / 20))),
    progress: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(`\n${formatReport(report)}\n`);
  process.exitCode = report.verdict.ok ? 0 : 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`soak: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 2;
});
