// `r2d2 auth test USER`: one login through the configured accounts path (the query, password
// verification, the maildir checks) without a session, for an operator checking a personality.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { openAccounts } from '../accounts/open-accounts';
import { closeCryptPool } from '../accounts/passwords/crypt-pool';
import type { LoginResult } from '../accounts/accounts';
import type { Config } from '../config/types';
import { OperatorError } from '../config/operator-error';
import { refusalOfMaildir } from '../maildrop/open-maildrop';
import { termsFor } from '../pop3/policy';
import { openLog } from '../log/logger';
import { passwordFromStdin, passwordFromTerminal } from './read-password';

interface AuthTestOptions {
  personality?: string;
  stdin?: boolean;
  peer: string;
}

export function registerAuth(program: Command): void {
  const auth = program.command('auth').description('check logins against the personality\'s accounts');
  auth
    .command('test <user>')
    .description('run the login path for USER (query, password check, maildir checks) and print the outcome; exit 0 when it would log in')
    .option('-p, --personality <dir>', 'personality folder (default: $SERVER_PERSONALITY_PATH)')
    .option('--stdin', 'read the password from standard input (else it is asked on the terminal)')
    .option('--peer <address>', 'the client address the query sees as %r', '127.0.0.1')
    .action(async (user: string, options: AuthTestOptions) => {
      const dir = options.personality ?? process.env['SERVER_PERSONALITY_PATH'];
      if (dir === undefined || dir === '') throw new OperatorError('no personality: pass -p <dir> or set SERVER_PERSONALITY_PATH');
      const { readConfig } = await import('./serve');
      const password = options.stdin === true ? await passwordFromStdin() : await passwordFromTerminal('Password: ', false);
      const outcome = await authTest(readConfig(dir), user, password, options.peer);
      process.stdout.write(`${outcome.text}\n`);
      process.exitCode = outcome.ok ? 0 : 1;
    });
}

export async function authTest(config: Config, user: string, password: string, peer: string): Promise<{ ok: boolean; text: string }> {
  // A test writes nothing: no rehash. What the store logs goes to stderr, away from the answer.
  const quiet: Config = { ...config, passwords: { ...config.passwords, rehashTo: undefined, rehashQuery: undefined } };
  const logging = openLog({ identity: config.identity, log: { ...config.log, destination: 'stderr' } });
  const accounts = openAccounts(quiet, logging.log);
  try {
    const result = await accounts.authenticate({ user, password, peer }).catch((error: unknown) => {
      throw new OperatorError(`auth test: the accounts database cannot answer: ${error instanceof Error ? error.message : String(error)}`);
    });
    return await describe(result, config);
  } finally {
    await accounts.close();
    await closeCryptPool();
    await logging.close();
  }
}

async function describe(result: LoginResult, config: Config): Promise<{ ok: boolean; text: string }> {
  if (result.kind === 'denied') return { ok: false, text: `denied: ${result.account === undefined ? 'no such user, or a wrong password' : `wrong password for ${result.account}`}` };
  if (result.kind === 'refused') return { ok: false, text: `refused: ${result.reason}` };
  const who = `account ${result.account ?? '?'}${result.matched === undefined ? ', password checked by the query' : `, ${result.matched} password matched`}`;
  const refusal = await refusalOfMaildir(result.maildir, config.maildirRoot);
  if (refusal !== undefined) return { ok: false, text: `refused: ${refusal}: ${result.maildir} (${who})` };
  const missing = ['cur', 'new', 'tmp'].filter((sub) => !existsSync(join(result.maildir, sub)));
  const state = missing.length === 0 ? 'a maildir' : existsSync(result.maildir) ? `missing ${missing.join(', ')}` : 'does not exist yet';
  return { ok: true, text: `ok: ${who}; maildir ${result.maildir} (${state})${policyNote(result, config)}` };
}

/** The user's LOGIN-DELAY and EXPIRE as a session would apply them (a test records no login). */
function policyNote(result: Extract<LoginResult, { kind: 'ok' }>, config: Config): string {
  const terms = termsFor(config.policy, result.policy);
  const notes: string[] = [];
  if (terms.loginDelaySeconds > 0) notes.push(`login delay ${terms.loginDelaySeconds} s`);
  if (terms.expire !== undefined) notes.push(terms.expire === 'never' ? 'expire never' : `expire ${terms.expire} days`);
  const last = result.policy?.lastLoginMs;
  if (last !== undefined) notes.push(`last login ${new Date(last).toISOString()}`);
  return notes.length === 0 ? '' : `; ${notes.join(', ')}`;
}
