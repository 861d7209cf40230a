import { join } from 'node:path';
import { Command } from 'commander';
import { C11nError } from '../config/errors';
import { registerAuth } from './auth-command';
import { registerControl } from './control-command';
import { registerDeliver } from './deliver-command';
import { registerMaildir } from './maildir-command';
import { OperatorError } from '../config/operator-error';
import { registerPw } from './pw-command';
import { version } from '../version';

function personalityOf(option: string | undefined): string {
  const dir = option ?? process.env['SERVER_PERSONALITY_PATH'];
  if (dir === undefined || dir.length === 0) {
    throw new UsageError('no personality: pass -p <dir> or set SERVER_PERSONALITY_PATH');
  }
  return dir;
}

class UsageError extends Error {}

export function main(argv: string[]): void {
  const program = new Command();
  program.name('r2d2').description('r2d2: a POP3 server for Maildir maildrops with MySQL/MariaDB accounts').version(version());

  program
    .command('serve')
    .description('run the POP3 server')
    .option('-p, --personality <dir>', 'personality folder (default: $SERVER_PERSONALITY_PATH)')
    .option('--demo', 'run on the embedded default (SQLite accounts, a demo maildrop), made on first run')
    .action(async (options: { personality?: string; demo?: boolean }) => {
      // First of all: a SIGHUP (`systemctl reload`) or SIGTERM from now on is kept, never fatal.
      const { SignalLatch } = await import('../server/signal-latch');
      const signals = new SignalLatch();
      // Loaded here, not at the top: `r2d2 deliver` runs once per message and needs none of it.
      const { readConfig, serve } = await import('./serve');
      if (options.demo !== true) {
        process.exitCode = await serve(readConfig(personalityOf(options.personality)), undefined, signals);
        return;
      }
      const { demoBanner, ensureDemo } = await import('./demo');
      const dir = ensureDemo(process.env['R2D2_DEMO_DIR'] ?? join(__dirname, '../../../var/demo'));
      process.exitCode = await serve(readConfig(dir), demoBanner, signals);
    });

  program
    .command('check-config')
    .description('read and validate a personality, then exit (0 = good)')
    .option('-p, --personality <dir>', 'personality folder (default: $SERVER_PERSONALITY_PATH)')
    .action(async (options: { personality?: string }) => {
      const { preflight, readConfig } = await import('./serve');
      const config = readConfig(personalityOf(options.personality));
      for (const warning of await preflight(config)) process.stderr.write(`warning: ${warning}\n`);
      process.stdout.write(`${config.personalityDir}/c11n: ok (${config.listeners.length} listener(s), database "${config.accountsDatabase.name}")\n`);
    });

  registerDeliver(program);
  registerMaildir(program);
  registerPw(program);
  registerAuth(program);
  registerControl(program, personalityOf);

  program.parseAsync(argv).catch((error: unknown) => {
    if (error instanceof C11nError || error instanceof UsageError || error instanceof OperatorError) {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`r2d2: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  });
}
