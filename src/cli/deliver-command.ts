// `r2d2 deliver`: the local delivery agent an MTA runs once per message and recipient.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { C11nError } from '../config/errors';
import type { Config } from '../config/types';
import { deliverMessage } from '../deliver/deliver';
import { DeliveryError, EX_OK, EX_TEMPFAIL, EX_USAGE } from '../deliver/sysexits';
import { MAILDIRSIZE_REFUSED_CHANNEL } from '../maildrop/maildirsize';
import { parseQuotaSpec, type QuotaDefinition } from '../maildrop/quota';

export interface DeliverOptions {
  personality?: string;
  maildir?: string;
  recipient?: string;
  quota?: string;
  overQuota?: string;
  create?: boolean;
  keepFromLine?: boolean;
  verbose?: boolean;
}

/** `r2d2 deliver --help` on the fast path (deliver-main.ts); commander prints its own from the options below. */
export const DELIVER_HELP = `Usage: r2d2 deliver [options]

deliver one message from standard input into a maildir (exit status per sysexits: 0, 75 retry, 67/68 unknown, 65 empty, 69 refused)

Options:
  -m, --maildir <dir>        deliver into this maildir (created when missing)
  -r, --recipient <address>  find the maildir with deliver.recipient_query_format_string
  -p, --personality <dir>    personality folder (default: $SERVER_PERSONALITY_PATH; needed with --recipient)
  --quota <spec>             Maildir++ quota to enforce: 500M, 2G, 1048576S,1000C or none (wins over the config and the database)
  --over-quota <action>      over quota: tempfail (75, the MTA retries) or bounce (69)
  --no-create                answer 75 rather than create a missing maildir
  --keep-from-line           keep a leading mbox "From " line (dropped by default)
  -v, --verbose              print the delivered file on standard output
  -h, --help                 display help for command
`;

export function registerDeliver(program: Command): void {
  program
    .command('deliver')
    .description('deliver one message from standard input into a maildir (exit status per sysexits: 0, 75 retry, 67/68 unknown, 65 empty, 69 refused)')
    .option('-m, --maildir <dir>', 'deliver into this maildir (created when missing)')
    .option('-r, --recipient <address>', 'find the maildir with deliver.recipient_query_format_string')
    .option('-p, --personality <dir>', 'personality folder (default: $SERVER_PERSONALITY_PATH; needed with --recipient)')
    .option('--quota <spec>', 'Maildir++ quota to enforce: 500M, 2G, 1048576S,1000C or none (wins over the config and the database)')
    .option('--over-quota <action>', 'over quota: tempfail (75, the MTA retries) or bounce (69)')
    .option('--no-create', 'answer 75 rather than create a missing maildir')
    .option('--keep-from-line', 'keep a leading mbox "From " line (dropped by default)')
    .option('-v, --verbose', 'print the delivered file on standard output')
    .exitOverride((err) => {
      // Commander's usage errors exit 1 by default; an MTA must see EX_USAGE.
      process.exit(err.exitCode === 0 ? 0 : EX_USAGE);
    })
    .action(async (options: DeliverOptions) => {
      process.exitCode = await runDeliver(options, process.stdin, process.env);
    });
}

/** Runs one delivery; answers the exit status and writes one line on stderr for a failure. */
export async function runDeliver(options: DeliverOptions, input: AsyncIterable<Uint8Array>, env: NodeJS.ProcessEnv): Promise<number> {
  // A maildirsize refused (a symlink, not a file) is worth a line; the delivery goes on without it.
  const warn = (message: unknown): void => {
    const { path, reason } = message as { path?: unknown; reason?: unknown };
    process.stderr.write(`r2d2 deliver: warning: ${String(path)}: ${String(reason)}\n`);
  };
  subscribe(MAILDIRSIZE_REFUSED_CHANNEL, warn);
  try {
    const path = await deliverFromOptions(options, input, env);
    if (options.verbose === true) process.stdout.write(`${path}\n`);
    return EX_OK;
  } catch (e) {
    const { code, message } = explain(e);
    process.stderr.write(`r2d2 deliver: ${message}\n`);
    return code;
  } finally {
    unsubscribe(MAILDIRSIZE_REFUSED_CHANNEL, warn);
  }
}

function explain(e: unknown): { code: number; message: string } {
  if (e instanceof DeliveryError) return { code: e.exitCode, message: e.message };
  // A personality that cannot be read: keep the mail queued (75) while the operator fixes it.
  if (e instanceof C11nError) return { code: EX_TEMPFAIL, message: `configuration: ${e.message}` };
  return { code: EX_TEMPFAIL, message: `internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}` };
}

async function deliverFromOptions(options: DeliverOptions, input: AsyncIterable<Uint8Array>, env: NodeJS.ProcessEnv): Promise<string> {
  if ((options.maildir === undefined) === (options.recipient === undefined)) {
    throw new DeliveryError(EX_USAGE, 'give exactly one of --maildir DIR and --recipient ADDRESS');
  }
  const overQuota = options.overQuota;
  if (overQuota !== undefined && overQuota !== 'tempfail' && overQuota !== 'bounce') {
    throw new DeliveryError(EX_USAGE, `--over-quota must be tempfail or bounce, got ${JSON.stringify(overQuota)}`);
  }
  let cliQuota: QuotaDefinition | undefined;
  if (options.quota !== undefined) {
    cliQuota = parseQuotaSpec(options.quota);
    if (cliQuota === undefined) throw new DeliveryError(EX_USAGE, `--quota: not a quota: ${JSON.stringify(options.quota)}`);
  }
  const dir = options.personality ?? nonEmpty(env['SERVER_PERSONALITY_PATH']);
  if (options.recipient !== undefined && dir === undefined) {
    throw new DeliveryError(EX_USAGE, '--recipient needs a personality: pass -p DIR or set SERVER_PERSONALITY_PATH');
  }
  // Loaded only when a personality is read: `--maildir` alone needs none of the c11n reader.
  const config: Config | undefined = dir === undefined ? undefined : (await import('../config/load')).loadConfig(dir, env, cpus().length);
  const settings = config?.deliver;

  let maildir = options.maildir;
  let dbQuota: QuotaDefinition | undefined;
  if (options.recipient !== undefined && config !== undefined) {
    if (settings === undefined) throw new DeliveryError(EX_TEMPFAIL, `${config.personalityDir}/c11n has no deliver section: use --maildir or add deliver { recipient_query_format_string = ... }`);
    const { findRecipient } = await import('./deliver-recipient');
    const found = await findRecipient(options.recipient, config, settings);
    maildir = found.maildir;
    dbQuota = found.quota;
  }
  if (maildir === undefined) throw new DeliveryError(EX_USAGE, 'no maildir');
  const configQuota = settings?.quota === undefined ? undefined : parseQuotaSpec(settings.quota);
  const delivered = await deliverMessage(input, {
    maildir: resolveMaildir(maildir),
    maildirRoot: config?.maildirRoot,
    create: options.create !== false && (settings?.createMaildir ?? true),
    quota: cliQuota ?? dbQuota ?? configQuota,
    overQuota: overQuota ?? settings?.overQuota ?? 'tempfail',
    keepFromLine: options.keepFromLine === true,
    storeCrlf: settings?.storeCrlf ?? false,
  });
  return delivered.path;
}

/** A relative --maildir is taken from the working directory (the database's paths are absolute). */
const resolveMaildir = (maildir: string): string => resolve(maildir);

const nonEmpty = (s: string | undefined): string | undefined => (s === undefined || s.length === 0 ? undefined : s);
