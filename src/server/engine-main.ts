// Entry of the engine process, forked by the supervisor, which sends it the Config over IPC.
import type { Config } from '../config/types';
import { createLogger } from '../log/logger';
import { version } from '../version';
import { Engine } from './engine';
import type { FromSupervisor } from './ipc';

/** Waits for the supervisor's first message: the Config it read. */
function firstConfig(): Promise<Config> {
  return new Promise((resolve) => {
    const onMessage = (message: FromSupervisor): void => {
      if (message.type !== 'start') return;
      process.off('message', onMessage);
      resolve(message.config);
    };
    process.on('message', onMessage);
  });
}

async function main(): Promise<void> {
  const config = await firstConfig();
  const log = createLogger({ identity: config.identity, log: config.log });
  const engine = new Engine({ config, log, implementation: `r2d2 ${version()}` });
  const hooks = process.env['R2D2_TEST_HOOKS'] === '1';
  process.on('message', (message: FromSupervisor, handle: unknown) => {
    if (message.type === 'fd') engine.receiveFd(message, handle);
    else if (message.type === 'reload') engine.reload(message.config);
    else if (message.type === 'test-kill' && hooks) engine.killForTest(message.slot);
  });
  process.on('SIGHUP', () => undefined); // the supervisor re-reads the config and sends it
  process.on('SIGUSR1', () => void engine.status());
  process.on('SIGINT', () => undefined); // the supervisor decides; a terminal's ^C reaches both
  process.once('SIGTERM', () => {
    engine.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
  // The supervisor is gone (killed): nobody would restart us or forward signals. End now;
  // sessions are closed without their deletions.
  process.once('disconnect', () => {
    log.error('supervisor gone: stopping');
    engine.stop(0).finally(() => process.exit(1));
  });
  await engine.start();
}

main().catch((error: unknown) => {
  process.stderr.write(`r2d2 engine: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
