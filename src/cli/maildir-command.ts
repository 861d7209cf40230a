// `r2d2 maildir check|fix DIR...` (and import-uidls, in import-uidls-command.ts): find and rename the messages whose names r2d2 cannot read
// sizes from, keeping their POP3 unique-ids.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { EX_NOINPUT, EX_OK, EX_TEMPFAIL, EX_USAGE } from '../deliver/sysexits';
import { MaildirToolError } from '../maildir-tools/errors';
import { auditMaildir, type Audit, type Finding } from '../maildir-tools/maildir-audit';
import { fixMaildir } from '../maildir-tools/maildir-fix';
import { PROBLEM_TEXT } from '../maildir-tools/name-fix';
import { ProgressBar, wantProgress } from '../maildir-tools/progress';
import type { MaildropLocker } from '../maildrop/locker';
import { errnoCode } from '../maildrop/util';
import { registerImportUidls } from './import-uidls-command';
import { toolLocker } from './tool-locker';

/** check/fix found something still to do (sysexits has no word for it; fsck-style 1). */
export const EX_FOUND = 1;

interface CommonOptions {
  quick?: boolean;
  progress?: boolean;
}

interface FixCommandOptions extends CommonOptions {
  personality?: string;
  dryRun?: boolean;
  wait?: string;
  newUidl?: boolean;
}

export function registerMaildir(program: Command): void {
  const maildir = program
    .command('maildir')
    .description('examine and repair maildirs for r2d2 (sizes in names, unique-ids kept)')
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : EX_USAGE));

  maildir
    .command('check')
    .description('report files whose names r2d2 cannot use (no Z size, wrong size, over 70 characters, not UTF-8), stale tmp/ files and a wrong maildirsize; exit 0 clean, 1 found, 66 no maildir, 75 error')
    .argument('<dir...>', 'maildirs (folders holding tmp/ new/ cur/)')
    .option('--quick', 'trust sizes in names: read only files whose names have none')
    .option('--progress', 'show a progress bar on stderr (default: on a terminal, for 1,000 files or more)')
    .option('--no-progress', 'never show a progress bar')
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : EX_USAGE))
    .action(async (dirs: string[], options: CommonOptions) => {
      process.exitCode = await runCheck(dirs, options);
    });

  maildir
    .command('fix')
    .description('rename those files so that r2d2 reads their sizes from their names, keeping every POP3 unique-id; takes the maildrop lock; exit 0 done, 1 some left, 66 no maildir, 75 locked or error')
    .argument('<dir...>', 'maildirs (folders holding tmp/ new/ cur/)')
    .option('-p, --personality <dir>', "take the maildrop lock as this personality's servers do (maildrop_lock: database leases across hosts); default $SERVER_PERSONALITY_PATH, else lock files")
    .option('-n, --dry-run', 'say what would be renamed; change nothing')
    .option('--wait <seconds>', 'wait this long for a POP3 session to release the maildrop', '30')
    .option('--new-uidl', 'also rename names that cannot keep their unique-id (clients then fetch those messages once more)')
    .option('--quick', 'trust sizes in names: read only files whose names have none')
    .option('--progress', 'show a progress bar on stderr (default: on a terminal, for 1,000 files or more)')
    .option('--no-progress', 'never show a progress bar')
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : EX_USAGE))
    .action(async (dirs: string[], options: FixCommandOptions) => {
      process.exitCode = await runFix(dirs, options);
    });

  registerImportUidls(maildir);
}

const out = (line: string): void => {
  process.stdout.write(line + '\n');
};

function progress(options: CommonOptions, label: string): (done: number, total: number) => void {
  let bar: ProgressBar | undefined | null = null; // null: not decided yet
  return (done, total) => {
    if (bar === null) bar = wantProgress(options.progress, process.stderr, total) ? new ProgressBar(process.stderr, label) : undefined;
    bar?.update(done, total);
  };
}

async function audit(dir: string, options: CommonOptions): Promise<Audit> {
  return auditMaildir(dir, { quick: options.quick === true, onProgress: progress(options, `checking ${dir}`) });
}

export async function runCheck(dirs: readonly string[], options: CommonOptions): Promise<number> {
  let status = EX_OK;
  for (const dir of dirs.map((d) => resolve(d))) {
    try {
      const result = await audit(dir, options);
      for (const f of result.findings) out(`${dir}: ${describe(f)}`);
      const serious = result.findings.filter(needsFix).length;
      out(serious === 0 ? `${dir}: ok (${result.messages} messages)` : `${dir}: ${serious} to fix (${result.messages} messages); run: r2d2 maildir fix ${dir}`);
      if (serious > 0) status = worst(status, EX_FOUND);
    } catch (e) {
      status = worst(status, failure(dir, e));
    }
  }
  return status;
}

export async function runFix(dirs: readonly string[], options: FixCommandOptions): Promise<number> {
  const seconds = Number(options.wait ?? '30');
  if (!Number.isFinite(seconds) || seconds < 0) {
    process.stderr.write(`r2d2 maildir fix: --wait must be a number of seconds, got ${JSON.stringify(options.wait)}\n`);
    return EX_USAGE;
  }
  const locker = toolLocker(options.personality);
  try {
    return await fixAll(dirs, options, seconds, locker);
  } finally {
    await locker.close();
  }
}

async function fixAll(dirs: readonly string[], options: FixCommandOptions, seconds: number, locker: MaildropLocker): Promise<number> {
  let status = EX_OK;
  for (const dir of dirs.map((d) => resolve(d))) {
    try {
      const result = await audit(dir, options);
      for (const f of result.findings) if (f.kind !== 'name' && !needsFix(f)) out(`${dir}: ${describe(f)}`);
      const fixed = await fixMaildir(result, {
        locker,
        dryRun: options.dryRun === true,
        waitMs: seconds * 1000,
        newUidl: options.newUidl === true,
        report: (line) => out(`${dir}: ${line}`),
        onProgress: progress(options, `renaming in ${dir}`),
      });
      const left = fixed.kept + fixed.failed + fixed.planned;
      out(
        options.dryRun === true
          ? `${dir}: dry run, nothing changed (${fixed.planned} to do, ${fixed.kept} to keep)`
          : `${dir}: ${fixed.renamed} renamed, ${fixed.kept} kept, ${fixed.failed} failed, ${fixed.removedTmp} tmp files removed${fixed.recalculated ? ', maildirsize recalculated' : ''}`,
      );
      if (left > 0) status = worst(status, EX_FOUND);
    } catch (e) {
      status = worst(status, failure(dir, e));
    }
  }
  return status;
}

/** Findings that make check exit 1 (fix acts on them); the others are notes. */
function needsFix(f: Finding): boolean {
  return f.kind === 'name' || f.kind === 'missing-dir' || f.kind === 'not-a-directory' || f.kind === 'stale-tmp' || f.kind === 'maildirsize';
}

function describe(f: Finding): string {
  switch (f.kind) {
    case 'name': {
      const b = f.bad;
      const detail =
        b.problem === 'wrong-size'
          ? `says ${b.nameSize ?? '?'}, the message is ${b.realSize} octets`
          : b.problem === 'too-long'
            ? `${b.name.split(':')[0]?.length ?? 0} characters; the message is ${b.realSize} octets`
            : `the message is ${b.realSize} octets`;
      return `${b.dir}/${b.name}: ${PROBLEM_TEXT[b.problem]} (${detail})`;
    }
    case 'missing-dir':
      return `${f.dir}/: missing`;
    case 'not-a-directory':
      return `${f.dir}/: not a directory`;
    case 'not-a-file':
      return `${f.path}: not a regular file (not served)`;
    case 'duplicate':
      return `${f.paths.join(', ')}: one unique-id (${f.uidl}) for several files; served once`;
    case 'stale-tmp':
      return `${f.path}: left in tmp/, untouched for ${f.hours} hours (fix removes it)`;
    case 'uidl-index':
      return `r2d2-uidls: ${f.problem}`;
    case 'maildirsize':
      return f.recorded === undefined
        ? `maildirsize: unreadable (the maildir holds ${f.actual.bytes} bytes in ${f.actual.messages} messages)`
        : `maildirsize: records ${f.recorded.bytes} bytes in ${f.recorded.messages} messages, the maildir holds ${f.actual.bytes} bytes in ${f.actual.messages}`;
  }
}

function failure(dir: string, e: unknown): number {
  const code = errnoCode(e);
  if (e instanceof MaildirToolError) {
    process.stderr.write(`r2d2 maildir: ${e.message}\n`);
    return e.exitCode;
  }
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    process.stderr.write(`r2d2 maildir: ${dir}: no such maildir\n`);
    return EX_NOINPUT;
  }
  process.stderr.write(`r2d2 maildir: ${dir}: ${code ?? (e instanceof Error ? e.message : String(e))}\n`);
  return EX_TEMPFAIL;
}

/** The exit status that matters most across several maildirs. */
function worst(a: number, b: number): number {
  const rank = (c: number): number => (c === EX_OK ? 0 : c === EX_FOUND ? 1 : 2);
  return rank(b) > rank(a) ? b : a;
}
