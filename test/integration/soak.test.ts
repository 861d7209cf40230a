// A short soak in CI (R2D2_SOAK_CI_SECONDS, default 20 s after a 5 s warm-up): a real server
// under the mixed load of test/helpers/soak.ts. Open fds of the engine and the supervisor come
// back to the baseline (within FD_SLACK) once every session has ended, RSS stays within a
// generous bound of the warm baseline, no session fails, the server logs no internal error.
// `npm run soak` runs the same for 5 minutes.
import t from 'tap';
import { FD_SLACK, formatReport, mb, RSS_SLACK_KB, RSS_SLACK_RATIO, runSoak } from '../helpers/soak';

t.test('soak: fds back to the baseline, memory bounded, no failure', async (t) => {
  const seconds = Number(process.env['R2D2_SOAK_CI_SECONDS'] ?? 20);
  const report = await runSoak({ seconds, warmupSeconds: 5, clients: 12, threads: 2, sampleEvery: 5 });
  t.comment(formatReport(report));
  t.ok(report.sessions > 0, `${report.sessions} sessions in ${seconds} s`);
  t.equal(report.failures, 0, 'no session failed', { failures: report.failureSamples });
  t.same(report.serverErrors, [], 'no internal error logged');
  for (const who of ['engine', 'supervisor'] as const) {
    const { before, after } = { before: report.before[who], after: report.after[who] };
    t.ok(after.fds <= before.fds + FD_SLACK, `${who}: ${after.fds} fds after, ${before.fds} at the baseline`);
    const bound = before.rssKb + Math.max(RSS_SLACK_KB, before.rssKb * RSS_SLACK_RATIO);
    t.ok(after.rssKb <= bound, `${who}: RSS ${mb(after.rssKb)} after, ${mb(before.rssKb)} at the baseline (bound ${mb(bound)})`);
  }
  t.ok(report.verdict.ok, 'verdict PASS', { reasons: report.verdict.reasons });
});
