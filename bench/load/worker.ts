// A load-generator thread: runs closed-loop clients (each starts its next session when the
// previous one ends) until the deadline or the session count, then reports.
import { parentPort } from 'node:worker_threads';
import type { Pop3Conn } from './pop3-conn';
import type { ErrorEvent, FromWorker, IdleSpec, RunResult, RunSpec, ToWorker } from './protocol';
import { login, runSession } from './sessions';

const MAX_ERROR_SAMPLES = 5;
const MAX_ERROR_EVENTS = 10_000;

class Errors {
  count = 0;
  readonly samples: string[] = [];
  readonly events: ErrorEvent[] = [];
  add(error: unknown): void {
    this.count++;
    const text = error instanceof Error ? error.message : String(error);
    if (this.samples.length < MAX_ERROR_SAMPLES && !this.samples.includes(text)) this.samples.push(text);
    if (this.events.length < MAX_ERROR_EVENTS) this.events.push({ at: Date.now(), text });
  }
}

async function run(spec: RunSpec): Promise<RunResult> {
  const errors = new Errors();
  const latencies: number[] = [];
  let bytes = 0;
  let messages = 0;
  let tls: string | undefined;
  const client = async (users: readonly string[]): Promise<void> => {
    for (let n = 0; n < spec.maxSessionsPerClient && Date.now() < spec.deadline; n++) {
      const user = users[n % users.length];
      if (user === undefined) return;
      const started = performance.now();
      try {
        const outcome = await runSession(spec, user);
        latencies.push(performance.now() - started);
        bytes += outcome.bytes;
        messages += outcome.messages;
        tls ??= outcome.tls;
      } catch (error) {
        errors.add(error);
      }
    }
  };
  await Promise.all(spec.clients.map(client));
  return {
    sessions: latencies.length,
    errors: errors.count,
    errorSamples: errors.samples,
    errorEvents: errors.events,
    bytes,
    messages,
    latencies: Float64Array.from(latencies),
    tls,
  };
}

let idle: Pop3Conn[] = [];

async function idleOpen(spec: IdleSpec): Promise<FromWorker> {
  const errors = new Errors();
  let next = 0;
  const opener = async (): Promise<void> => {
    for (let i = next++; i < spec.users.length; i = next++) {
      const user = spec.users[i];
      if (user === undefined) return;
      try {
        const conn = await login(spec.target, user, spec.password, spec.sessionTimeoutMs);
        await conn.must('STAT');
        idle.push(conn);
      } catch (error) {
        errors.add(error);
      }
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, opener));
  return { type: 'idle-opened', opened: idle.length, errors: errors.count, errorSamples: errors.samples };
}

async function idleClose(): Promise<FromWorker> {
  const errors = new Errors();
  const open = idle;
  idle = [];
  await Promise.all(
    open.map(async (conn) => {
      try {
        await conn.quit();
      } catch (error) {
        errors.add(error);
      }
    }),
  );
  return { type: 'idle-closed', errors: errors.count, errorSamples: errors.samples };
}

const port = parentPort;
if (port === null) throw new Error('bench/load/worker: must run as a worker thread');
port.on('message', (message: ToWorker) => {
  const reply = (out: FromWorker): void => port.postMessage(out);
  switch (message.type) {
    case 'run':
      void run(message.spec).then((result) => reply({ type: 'run-done', result }));
      break;
    case 'idle-open':
      void idleOpen(message.spec).then(reply);
      break;
    case 'idle-close':
      void idleClose().then(reply);
      break;
  }
});
