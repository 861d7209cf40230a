// The hooks' own CPU, in this process, without a server: what one plain login session (QUIT
// after STAT) and one RETR add when metrics are on. A floor under the end-to-end figures of
// metrics-cost.ts, which a shared machine's noise can hide.
import { WorkerMetrics } from '../src/server/metrics/worker-metrics';
import { round } from './report/stats';

export interface HookCost {
  /** µs of CPU per login session's hook calls, and per RETR's. */
  readonly loginSessionUs: number;
  readonly retrUs: number;
}

function cpuUsPer(n: number, run: () => void): number {
  for (let i = 0; i < n / 10; i++) run(); // warm the JIT
  const before = process.cpuUsage();
  for (let i = 0; i < n; i++) run();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / n;
}

export function hookCost(): HookCost {
  const metrics = new WorkerMetrics({ slot: 0, logLost: () => 0 });
  const listener = metrics.listener('pop3');
  const chunk = [Buffer.alloc(16 * 1024)];
  // The calls a plain USER/PASS, STAT, QUIT session makes, in order.
  const session = (): void => {
    listener.accepted();
    listener.started();
    listener.sent('+OK r2d2 ready\r\n');
    listener.sent('+OK send PASS\r\n');
    metrics.accounts.query('login', 0.002, false);
    metrics.session.loginStage('lock', 0.0004);
    metrics.session.loginStage('scan', 0.0008);
    metrics.session.login('user', 'ok', 0.004);
    listener.sent('+OK someone has 50 messages (102400 octets)\r\n');
    listener.sent('+OK 50 102400\r\n');
    listener.sent('+OK r2d2 signing off\r\n');
    listener.ended('peer quit');
  };
  const retr = (): void => {
    metrics.session.retrieved('retr');
    listener.sent(chunk);
  };
  return { loginSessionUs: round(cpuUsPer(200_000, session), 2), retrUs: round(cpuUsPer(1_000_000, retr), 3) };
}
