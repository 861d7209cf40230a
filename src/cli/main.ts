import { join } from 'node:path';
import { Command } from 'commander';
import { C11nError } from '../config/errors';
import { DEMO_PASSWORD, DEMO_USER, ensureDemo } from './demo';
import { registerDeliver } from './deliver-command';
import { registerMaildir } from './maildir-command';
import { preflight, readConfig, serve, version } from './serve';
import { TlsConfigError } from '../server/tls-contexts';
import { StartupError } from '../server/supervisor';

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
      const dir = options.demo === true ? ensureDemo(process.env['R2D2_DEMO_DIR'] ?? join(__dirname, '../../../var/demo')) : personalityOf(options.personality);
      const config = readConfig(dir);
      const banner =
        options.demo === true
          ? (port: number) =>
              `r2d2 is serving the demo maildrop on 127.0.0.1:${port} (user "${DEMO_USER}", password "${DEMO_PASSWORD}").\n` +
              `Try: curl pop3://${DEMO_USER}:${DEMO_PASSWORD}@127.0.0.1:${port}/1   or   python3 -c "import poplib; p=poplib.POP3('127.0.0.1', ${port}); p.user('${DEMO_USER}'); p.pass_('${DEMO_PASSWORD}'); print(p.stat())"\n` +
              'Stop with Ctrl-C.'
          : undefined;
      process.exitCode = await serve(config, banner);
    });

  program
    .command('check-config')
    .description('read and validate a personality, then exit (0 = good)')
    .option('-p, --personality <dir>', 'personality folder (default: $SERVER_PERSONALITY_PATH)')
    .action(async (options: { personality?: string }) => {
      const config = readConfig(personalityOf(options.personality));
      await preflight(config);
      process.stdout.write(`${config.personalityDir}/c11n: ok (${config.listeners.length} listener(s), database "${config.accountsDatabase.name}")\n`);
    });

  registerDeliver(program);
  registerMaildir(program);

  program.parseAsync(argv).catch((error: unknown) => {
    if (error instanceof C11nError || error instanceof UsageError || error instanceof TlsConfigError || error instanceof StartupError) {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`r2d2: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  });
}
