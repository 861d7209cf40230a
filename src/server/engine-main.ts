// Entry of the engine process, forked by the supervisor, which sends it the Config over IPC.
import type { Config } from '../config/types';
import { SignalLatch } from './signal-latch';
import { openLog } from '../log/logger';
import { version } from '../version';
import { Engine } from './engine';
import type { FromSupervisor } from './ipc';

// Signals and messages are taken from the first line on: a SIGHUP's reload or a SIGTERM that
// comes while the engine starts is applied when it can be, never lost (signal-latch.ts).
const signals = new SignalLatch();
/** Messages that came before the engine existed, in order. */
const early: Array<{ message: FromSupervisor; handle: unknown }> = [];
let handleMessage = (message: FromSupervisor, handle: unknown): void => void early.push({ message, handle });
process.on('message', (message: FromSupervisor, handle: unknown) => handleMessage(message, handle));
// A supervisor killed before the engine runs: nothing to stop, nobody to wait for.
let onDisconnect = (): void => process.exit(1);
process.once('disconnect', () => onDisconnect());
if (!process.connected) process.exit(1);

/** Waits for the supervisor's first message: the Config it read (or a newer one sent since). */
async function firstConfig(): Promise<Config> {
  for (;;) {
    const start = early.findIndex(({ message }) => message.type === 'start');
    if (start !== -1) {
      const [first] = early.splice(0, start + 1);
      if (first?.message.type !== 'start') throw new Error('engine: no start message');
      let config = first.message.config;
      // A SIGHUP's reload that came before the engine existed: start with that Config instead.
      for (const { message } of early.splice(0)) if (message.type === 'reload') config = message.config;
      return config;
    }
    await new Promise<void>((resolve) => process.once('message', () => setImmediate(resolve)));
  }
}

async function main(): Promise<void> {
  const config = await firstConfig();
  const logging = openLog({ identity: config.identity, log: config.log });
  const log = logging.log;
  const engine = new Engine({ config, logging, implementation: `r2d2 ${version()}` });
  const hooks = process.env['R2D2_TEST_HOOKS'] === '1';
  handleMessage = (message, handle) => {
    if (message.type === 'fd') engine.receiveFd(message, handle);
    else if (message.type === 'reload') void engine.reload(message.config);
    else if (message.type === 'test-kill' && hooks) engine.killForTest(message.slot);
  };
  for (const { message, handle } of early.splice(0)) handleMessage(message, handle);
  let stopping = false;
  signals.attach((signal) => {
    // SIGHUP: the supervisor re-reads the config and sends it. SIGINT: the supervisor decides
    // (a terminal's ^C reaches both).
    if (signal === 'SIGUSR1') void engine.status();
    else if (signal === 'SIGTERM' && !stopping) {
      stopping = true;
      engine.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    }
  });
  // The supervisor is gone (killed): nobody would restart us or forward signals. End now;
  // sessions are closed without their deletions.
  onDisconnect = () => {
    log.error('supervisor gone: stopping');
    void engine.stop(0).finally(() => process.exit(1));
  };
  await engine.start();
}

main().catch((error: unknown) => {
  process.stderr.write(`r2d2 engine: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
