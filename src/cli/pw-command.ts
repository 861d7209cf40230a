// `r2d2 pw`: a password hash in {SCHEME} form for the accounts table, as `doveadm pw` prints it.
import type { Command } from 'commander';
import { hashPassword } from '../accounts/passwords/generate';
import { closeCryptPool } from '../accounts/passwords/crypt-pool';
import { parseSchemeName, SCHEMES } from '../config/password-schemes';
import { OperatorError } from '../config/operator-error';
import { passwordFromStdin, passwordFromTerminal } from './read-password';

export const DEFAULT_PW_SCHEME = 'ARGON2ID';

interface PwOptions {
  scheme: string;
  password?: string;
  stdin?: boolean;
}

export function registerPw(program: Command): void {
  program
    .command('pw')
    .description('print a password hash in {SCHEME} form (for the accounts table; Dovecot reads it too)')
    .option('-s, --scheme <scheme>', `${SCHEMES.join(', ')} (.HEX/.B64 suffixes for the digests)`, DEFAULT_PW_SCHEME)
    .option('-p, --password <password>', 'the password (visible to other users in ps: prefer --stdin or the prompt)')
    .option('--stdin', 'read the password from standard input')
    .action(async (options: PwOptions) => {
      process.stdout.write(`${await runPw(options)}\n`);
    });
}

export async function runPw(options: PwOptions): Promise<string> {
  const spec = parseSchemeName(options.scheme);
  if (spec === undefined) throw new OperatorError(`r2d2 pw: unknown scheme ${JSON.stringify(options.scheme)} (known: ${SCHEMES.join(', ')})`);
  if (options.password !== undefined && options.stdin === true) throw new OperatorError('r2d2 pw: give -p or --stdin, not both');
  const password = options.password ?? (options.stdin === true ? await passwordFromStdin() : await passwordFromTerminal('Enter new password: ', true));
  if (password.length === 0) throw new OperatorError('r2d2 pw: the password is empty');
  try {
    return await hashPassword(spec, password);
  } finally {
    await closeCryptPool();
  }
}
