// `r2d2 maildir import-uidls MAILDIR... --from dovecot|courier|xuidl`: serve the unique-ids the
// old POP3 server served (src/maildir-tools/uidl-import.ts), so that moving to r2d2 costs no
// client a download.
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { EX_NOINPUT, EX_OK, EX_TEMPFAIL, EX_USAGE } from '../deliver/sysexits';
import { MaildirToolError } from '../maildir-tools/errors';
import { ProgressBar, wantProgress } from '../maildir-tools/progress';
import { importUidls, type ImportResult } from '../maildir-tools/uidl-import';
import type { Source } from '../maildir-tools/uidl-foreign';
import { errnoCode } from '../maildrop/util';
import { toolLocker } from './tool-locker';
import type { MaildropLocker } from '../maildrop/locker';

/** Something could not be kept (a conflict, an invalid unique-id, a failed rename): fsck-style 1, as check/fix. */
const EX_NOT_KEPT = 1;

interface ImportCommandOptions {
  from: Source;
  controlDir?: string;
  uidlFormat?: string;
  reuseXuidl?: boolean;
  dryRun?: boolean;
  wait?: string;
  progress?: boolean;
  personality?: string;
}

export function registerImportUidls(maildir: Command): void {
  maildir
    .command('import-uidls')
    .description("serve the POP3 unique-ids (UIDLs) another server served, so that clients keeping mail on the server fetch nothing again; also gives names without a Z size one (as fix); takes the maildrop lock; exit 0 done, 1 something not kept, 65 index too large, 66 no maildir or no uidlist, 75 locked or error")
    .argument('<dir...>', 'maildirs (folders holding tmp/ new/ cur/)')
    .addOption(new Option('--from <server>', 'where the unique-ids come from').choices(['dovecot', 'courier', 'xuidl']).makeOptionMandatory())
    .option('--control-dir <dir>', "dovecot: the folder holding dovecot-uidlist (mail_location's CONTROL=) when it is not in the maildir; one maildir only")
    .option('--uidl-format <format>', "dovecot: pop3_uidl_format (default %08Xu%08Xv); courier: a format over courierimapuiddb's IMAP UIDs instead of courierpop3dsizelist")
    .option('--reuse-xuidl', 'dovecot: pop3_reuse_xuidl = yes (an X-UIDL header comes first)')
    .option('-n, --dry-run', 'say what would be done; change nothing')
    .option('--wait <seconds>', 'wait this long for a POP3 session to release the maildrop', '30')
    .option('-p, --personality <dir>', "take the maildrop lock as this personality's servers do (maildrop_lock: database leases across hosts); default $SERVER_PERSONALITY_PATH, else lock files")
    .option('--progress', 'show a progress bar on stderr (default: on a terminal, for 1,000 files or more)')
    .option('--no-progress', 'never show a progress bar')
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : EX_USAGE))
    .action(async (dirs: string[], options: ImportCommandOptions) => {
      process.exitCode = await runImport(dirs, options);
    });
}

const out = (line: string): void => {
  process.stdout.write(line + '\n');
};

function progress(options: ImportCommandOptions, label: string): (done: number, total: number) => void {
  let bar: ProgressBar | undefined | null = null;
  return (done, total) => {
    if (bar === null) bar = wantProgress(options.progress, process.stderr, total) ? new ProgressBar(process.stderr, label) : undefined;
    bar?.update(done, total);
  };
}

export async function runImport(dirs: readonly string[], options: ImportCommandOptions): Promise<number> {
  const seconds = Number(options.wait ?? '30');
  const usage = (text: string): number => {
    process.stderr.write(`r2d2 maildir import-uidls: ${text}\n`);
    return EX_USAGE;
  };
  if (!Number.isFinite(seconds) || seconds < 0) return usage(`--wait must be a number of seconds, got ${JSON.stringify(options.wait)}`);
  if (options.controlDir !== undefined && (options.from !== 'dovecot' || dirs.length !== 1)) return usage('--control-dir goes with --from dovecot and one maildir');
  if (options.reuseXuidl === true && options.from !== 'dovecot') return usage('--reuse-xuidl goes with --from dovecot');
  if (options.uidlFormat !== undefined && options.from === 'xuidl') return usage('--uidl-format goes with --from dovecot or courier');
  const locker = toolLocker(options.personality);
  try {
    return await importAll(dirs, options, seconds * 1000, locker);
  } finally {
    await locker.close();
  }
}

async function importAll(dirs: readonly string[], options: ImportCommandOptions, waitMs: number, locker: MaildropLocker): Promise<number> {
  let status = EX_OK;
  for (const dir of dirs.map((d) => resolve(d))) {
    try {
      const result = await importUidls(dir, {
        from: options.from,
        ...(options.controlDir === undefined ? {} : { controlDir: resolve(options.controlDir) }),
        ...(options.uidlFormat === undefined ? {} : { uidlFormat: options.uidlFormat }),
        reuseXuidl: options.reuseXuidl === true,
        dryRun: options.dryRun === true,
        waitMs,
        locker,
        report: (line) => out(`${dir}: ${line}`),
        onProgress: progress(options, `reading ${dir}`),
        onMeasureProgress: progress(options, `measuring ${dir}`),
        onRenameProgress: progress(options, `renaming in ${dir}`),
      });
      out(`${dir}: ${summary(result, options.dryRun === true)}`);
      if (result.conflicts + result.invalid + result.renameFailed > 0) status = worst(status, EX_NOT_KEPT);
    } catch (e) {
      status = worst(status, failure(dir, e));
    }
  }
  return status;
}

function summary(r: ImportResult, dryRun: boolean): string {
  const parts = [
    `${r.imported} imported (${r.newlyImported} new)`,
    `${r.already} already r2d2's`,
    `${r.notFound} not found in the uidlist`,
    `${r.conflicts} conflicts`,
    `${r.invalid} invalid`,
  ];
  if (r.displaced > 0) parts.push(`${r.displaced} displaced`);
  parts.push(`${r.renamed} ${dryRun ? 'to rename' : 'renamed'} (Z size added)`);
  if (r.sizeless > 0) parts.push(`${r.sizeless} left without a size`);
  if (r.renameFailed > 0) parts.push(`${r.renameFailed} renames failed`);
  return `${dryRun ? 'dry run, nothing changed: ' : ''}${r.messages} messages: ${parts.join(', ')}`;
}

function failure(dir: string, e: unknown): number {
  if (e instanceof MaildirToolError) {
    process.stderr.write(`r2d2 maildir import-uidls: ${e.message}\n`);
    return e.exitCode;
  }
  const code = errnoCode(e);
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    process.stderr.write(`r2d2 maildir import-uidls: ${dir}: no such maildir\n`);
    return EX_NOINPUT;
  }
  process.stderr.write(`r2d2 maildir import-uidls: ${dir}: ${code ?? (e instanceof Error ? e.message : String(e))}\n`);
  return EX_TEMPFAIL;
}

/** The exit status that matters most across several maildirs: an error over "not kept" over ok. */
function worst(a: number, b: number): number {
  const rank = (c: number): number => (c === EX_OK ? 0 : c === EX_NOT_KEPT ? 1 : 2);
  return rank(b) > rank(a) ? b : a;
}
