// `r2d2 maildir fix`: renames the messages an audit found so that r2d2 reads their sizes from
// their names, keeping every unique-id a POP3 client has seen (src/maildir-tools/name-fix.ts).
//
// Sizes are measured before the lock (reading a large maildir takes a while and Maildir files
// do not change); the renames run under the maildrop lock, so no POP3 session is open on the
// maildrop meanwhile (logins get [IN-USE] for that moment). Under the lock each file is checked
// to be the one measured (inode, size, mtime) and measured again if not. A rename is link(2) of
// the new name, which never replaces a file, then unlink(2) of the old one: a crash between the
// two leaves two names of one file with one unique-id, which r2d2 lists once and the next fix
// resolves.
import { link, lstat, mkdir, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { NO_LINK } from '../maildrop/link-fallback';
import { LOCAL_LOCKER, type MaildropLocker } from '../maildrop/locker';
import { readMaildirSize, recalculateMaildirSize } from '../maildrop/maildirsize';
import { formatQuotaDefinition } from '../maildrop/quota';
import { rfc822SizeOfFile } from '../maildrop/rfc822-size';
import { errnoCode } from '../maildrop/util';
import { fsyncDir } from '../deliver/maildir-write';
import { rawPath, type Audit, type BadName } from './maildir-audit';
import { planRename, type Plan } from './name-fix';
import { assertStillLocked, takeToolLock } from './tool-lock';

export interface FixOptions {
  /** Say what would be done; change nothing. */
  readonly dryRun?: boolean;
  /** How long to wait for a POP3 session to release the maildrop (ms). */
  readonly waitMs?: number;
  /** Rename names that cannot keep their unique-id too (clients see them as new messages). */
  readonly newUidl?: boolean;
  /** One line per action, for the operator. */
  readonly report: (line: string) => void;
  readonly onProgress?: (done: number, total: number) => void;
  readonly host?: string;
  /** The personality's maildrop lock (database leases across hosts); lock files by default. */
  readonly locker?: MaildropLocker;
}

export interface FixResult {
  readonly renamed: number;
  /** Dry run: how many would be renamed. */
  readonly planned: number;
  /** Left as they are: no name can carry both their size and their unique-id. */
  readonly kept: number;
  /** Gone or changed by another program meanwhile, or an error: run fix again. */
  readonly failed: number;
  readonly removedTmp: number;
  readonly recalculated: boolean;
}

export async function fixMaildir(audit: Audit, options: FixOptions): Promise<FixResult> {
  const { maildir } = audit;
  const taken = new Map<'new' | 'cur', Set<string>>();
  for (const dir of ['new', 'cur'] as const) {
    const names = await readdir(join(maildir, dir)).catch(() => [] as string[]);
    taken.set(dir, new Set(names));
  }
  const planFor = (bad: BadName, realSize: number, mtimeMs: number): Plan => {
    const inDir = taken.get(bad.dir) ?? new Set<string>();
    const plan = planRename(bad.name, realSize, {
      mtimeSeconds: Math.floor(mtimeMs / 1000),
      taken: (name) => inDir.has(name),
      newUidl: options.newUidl === true,
      ...(options.host === undefined ? {} : { host: options.host }),
    });
    if (plan.kind === 'rename') inDir.add(plan.name);
    return plan;
  };

  const bads = audit.findings.flatMap((f) => (f.kind === 'name' ? [f.bad] : []));
  const plans = bads.map((bad) => ({ bad, plan: planFor(bad, bad.realSize, bad.id.mtimeMs) }));
  const staleTmp = audit.findings.flatMap((f) => (f.kind === 'stale-tmp' ? [f] : []));
  const drift = audit.findings.some((f) => f.kind === 'maildirsize');
  const missing = audit.findings.flatMap((f) => (f.kind === 'missing-dir' ? [f.dir] : []));
  const kept = plans.filter((p) => p.plan.kind === 'keep').length;
  for (const { bad, plan } of plans) {
    if (plan.kind === 'keep') options.report(`kept ${bad.dir}/${bad.name}: ${plan.why}`);
  }

  if (options.dryRun === true) {
    for (const { bad, plan } of plans) {
      if (plan.kind === 'rename') options.report(`would rename ${bad.dir}/${bad.name} -> ${bad.dir}/${plan.name}${plan.keepsUidl ? '' : ' (new unique-id)'}`);
    }
    for (const t of staleTmp) options.report(`would remove ${t.path} (untouched for ${t.hours} hours)`);
    for (const dir of missing) options.report(`would create ${dir}/`);
    if (drift) options.report('would recalculate maildirsize');
    const planned = plans.length - kept + staleTmp.length + missing.length + (drift ? 1 : 0);
    return { renamed: 0, planned, kept, failed: 0, removedTmp: 0, recalculated: false };
  }

  const todo = plans.filter((p) => p.plan.kind === 'rename');
  for (const dir of missing) {
    await mkdir(join(maildir, dir), { mode: 0o700 }).catch((e: unknown) => {
      if (errnoCode(e) !== 'EEXIST') throw e;
    });
    options.report(`created ${dir}/`);
  }
  if (todo.length === 0 && staleTmp.length === 0 && !drift) return { renamed: 0, planned: 0, kept, failed: 0, removedTmp: 0, recalculated: false };

  const lock = await takeToolLock(maildir, options.locker ?? LOCAL_LOCKER, options.waitMs ?? 30_000, 'r2d2 maildir fix', 'nothing was renamed');
  let renamed = 0;
  let failed = 0;
  let removedTmp = 0;
  let recalculated = false;
  const touched = new Set<string>();
  try {
    let done = 0;
    for (const { bad, plan } of todo) {
      assertStillLocked(maildir, lock, `${renamed} renamed`);
      const outcome = await renameOne(maildir, bad, plan, planFor);
      if (outcome.kind === 'renamed') {
        renamed++;
        touched.add(bad.dir);
        options.report(`renamed ${bad.dir}/${bad.name} -> ${bad.dir}/${outcome.name}${outcome.keepsUidl ? '' : ' (new unique-id)'}`);
      } else {
        failed++;
        options.report(`not renamed ${bad.dir}/${bad.name}: ${outcome.why}`);
      }
      options.onProgress?.(++done, todo.length);
    }
    for (const dir of touched) await fsyncDir(join(maildir, dir));
    for (const t of staleTmp) {
      try {
        await unlink(rawPath(maildir, 'tmp', t.raw));
        removedTmp++;
        options.report(`removed ${t.path} (untouched for ${t.hours} hours)`);
      } catch (e) {
        if (errnoCode(e) !== 'ENOENT') throw e;
      }
    }
    if (drift) {
      assertStillLocked(maildir, lock, `${renamed} renamed`);
      const current = await readMaildirSize(maildir);
      if (current !== undefined) {
        const usage = await recalculateMaildirSize(maildir, current.definition);
        recalculated = true;
        const def = formatQuotaDefinition(current.definition);
        options.report(`recalculated maildirsize: ${usage.bytes} bytes in ${usage.messages} messages${def === '' ? '' : ` (quota ${def})`}`);
      }
    }
  } finally {
    await lock.release();
  }
  return { renamed, planned: 0, kept, failed, removedTmp, recalculated };
}

type Outcome = { kind: 'renamed'; name: string; keepsUidl: boolean } | { kind: 'failed'; why: string };

async function renameOne(
  maildir: string,
  bad: BadName,
  first: Plan,
  planFor: (bad: BadName, realSize: number, mtimeMs: number) => Plan,
): Promise<Outcome> {
  const from = rawPath(maildir, bad.dir, bad.raw);
  let plan = first;
  for (let attempt = 0; attempt < 3; attempt++) {
    let st;
    try {
      st = await lstat(from);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return { kind: 'failed', why: 'gone meanwhile (moved or deleted by another program)' };
      throw e;
    }
    if (!st.isFile()) return { kind: 'failed', why: 'no longer a regular file' };
    if (st.ino !== bad.id.ino || st.size !== bad.id.size || st.mtimeMs !== bad.id.mtimeMs) {
      plan = planFor(bad, await rfc822SizeOfFile(from), st.mtimeMs); // changed since it was measured
    }
    if (plan.kind === 'keep') return { kind: 'failed', why: plan.why };
    const to = join(maildir, bad.dir, plan.name);
    try {
      await link(from, to);
    } catch (e) {
      const code = errnoCode(e) ?? '';
      if (code === 'EEXIST') {
        const there = await lstat(to).catch(() => undefined);
        if (there?.ino !== st.ino) {
          plan = planFor(bad, bad.realSize, st.mtimeMs); // taken by another file: the next name
          continue;
        }
      } else if (NO_LINK.has(code)) {
        if (await lstat(to).then(() => true, () => false)) continue;
        await rename(from, to);
        return { kind: 'renamed', name: plan.name, keepsUidl: plan.keepsUidl };
      } else {
        return { kind: 'failed', why: `cannot link the new name: ${code || String(e)}` };
      }
    }
    try {
      await unlink(from);
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') return { kind: 'failed', why: `renamed, but the old name stays: ${errnoCode(e) ?? String(e)}` };
    }
    return { kind: 'renamed', name: plan.name, keepsUidl: plan.keepsUidl };
  }
  return { kind: 'failed', why: 'no free name found' };
}
