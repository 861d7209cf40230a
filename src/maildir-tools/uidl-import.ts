// `r2d2 maildir import-uidls`: makes r2d2 serve every message with the unique-id the old server
// (Dovecot, Courier, or an X-UIDL header) served it with, so that clients which keep mail on the
// server fetch nothing again.
//
// 1. List the messages and read the old server's files (no lock: nothing changes yet).
// 2. Decide the index (uidl-plan.ts) and write r2d2-uidls under the maildrop lock, taken as
//    `r2d2 maildir fix` takes it. From then on r2d2 serves the imported unique-ids.
// 3. Give the names that lack a Z size one, through `fix` itself: its renames keep r2d2's own
//    unique-id of each message, the index key, so step 2's entries hold before and after each.
// A crash anywhere leaves a state r2d2 serves correctly, and running the import again finishes it.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseMaildirName } from '../maildrop/name';
import { readUidlIndex } from '../maildrop/uidl-index';
import { errnoCode } from '../maildrop/util';
import { auditMaildir } from './maildir-audit';
import { fixMaildir } from './maildir-fix';
import { LOCAL_LOCKER, type MaildropLocker } from '../maildrop/locker';
import { takeToolLock } from './tool-lock';
import { foreignUidls, type SourceOptions } from './uidl-foreign';
import { writeUidlIndex } from './uidl-index-write';
import { planIndex, type Listed, type Outcome } from './uidl-plan';

export interface ImportOptions extends SourceOptions {
  readonly dryRun?: boolean;
  /** How long to wait for a POP3 session to release the maildrop (ms). */
  readonly waitMs?: number;
  /** The personality's maildrop locker (database leases where the servers take them); lock files by default. */
  readonly locker?: MaildropLocker;
  /** One line per problem or action, for the operator. */
  readonly report: (line: string) => void;
  /** Files read to size the names that lack a Z size. */
  readonly onMeasureProgress?: (done: number, total: number) => void;
  readonly onRenameProgress?: (done: number, total: number) => void;
}

export interface ImportResult {
  readonly messages: number;
  /** Served the old server's unique-id (of which `newlyImported` by this run). */
  readonly imported: number;
  readonly newlyImported: number;
  /** The old server's unique-id was r2d2's own already. */
  readonly already: number;
  readonly notFound: number;
  readonly conflicts: number;
  readonly invalid: number;
  /** Messages the old server never listed whose r2d2 unique-id an imported one takes. */
  readonly displaced: number;
  readonly renamed: number;
  /** Names left without a Z size: no name can carry it with the unique-id (served by reading the file). */
  readonly sizeless: number;
  /** Renames that failed (the file changed or vanished meanwhile): run the import again. */
  readonly renameFailed: number;
  readonly indexChanged: boolean;
}

export async function importUidls(maildir: string, options: ImportOptions): Promise<ImportResult> {
  const messages = await listMessages(maildir);
  // An empty maildrop needs no source file (a maildir the old server never opened has none).
  const foreign = messages.length === 0 ? { uidls: new Map<string, string>(), from: 'nothing' } : await foreignUidls(maildir, messages, options);
  const current = await readUidlIndex(maildir);
  if (current.kind === 'ignored') options.report(`r2d2-uidls: not used (${current.why}); it is replaced`);
  const earlier = current.kind === 'read' ? current.index.entries : new Map<string, string>();
  const plan = planIndex(messages, foreign.uidls, earlier);

  const count = (kind: Outcome['kind']): number => plan.outcomes.filter((o) => o.outcome.kind === kind).length;
  for (const { message, outcome } of plan.outcomes) {
    const name = `${message.dir}/${message.file}`;
    if (outcome.kind === 'conflict') options.report(`conflict ${name}: ${outcome.uidl} is the unique-id of ${outcome.holder} too; keeps ${message.native}`);
    if (outcome.kind === 'invalid') options.report(`invalid ${name}: ${JSON.stringify(outcome.uidl)} is not an RFC 1939 unique-id (1-70 characters 0x21-0x7E); keeps ${message.native}`);
    const before = earlier.get(message.native);
    if (before !== undefined && outcome.kind === 'imported' && !outcome.earlier) options.report(`changed ${name}: ${before} -> ${outcome.uidl}`);
    if (before !== undefined && outcome.kind === 'already') options.report(`changed ${name}: ${before} -> ${message.native} (r2d2's own)`);
  }
  for (const m of plan.displaced) options.report(`displaced ${m.dir}/${m.file}: its own unique-id ${m.native} is imported for another message; it is served a new one`);

  const indexChanged = !sameEntries(plan.entries, earlier) || current.kind === 'ignored';
  if (options.dryRun === true) {
    if (indexChanged) options.report(`would write r2d2-uidls: ${plan.entries.size} entries (from ${foreign.from})`);
  } else if (indexChanged) {
    const lock = await takeToolLock(maildir, options.locker ?? LOCAL_LOCKER, options.waitMs ?? 30_000, 'r2d2 maildir import-uidls', 'nothing was imported');
    try {
      await writeUidlIndex(maildir, plan.entries);
    } finally {
      await lock.release();
    }
    options.report(`wrote r2d2-uidls: ${plan.entries.size} entries (from ${foreign.from})`);
  }

  const renames = await addSizes(maildir, options);
  const imported = count('imported');
  return {
    messages: messages.length,
    imported,
    newlyImported: plan.outcomes.filter((o) => o.outcome.kind === 'imported' && !o.outcome.earlier).length,
    already: count('already'),
    notFound: count('not-found'),
    conflicts: count('conflict'),
    invalid: count('invalid'),
    displaced: plan.displaced.length,
    ...renames,
    indexChanged,
  };
}

/** `fix` for the names only (not tmp/ or maildirsize: that is fix's business): sizes added, unique-ids kept. */
async function addSizes(maildir: string, options: ImportOptions): Promise<{ renamed: number; sizeless: number; renameFailed: number }> {
  const audit = await auditMaildir(maildir, { quick: true, ...(options.onMeasureProgress === undefined ? {} : { onProgress: options.onMeasureProgress }) });
  const findings = audit.findings.filter((f) => f.kind === 'name');
  if (findings.length === 0) return { renamed: 0, sizeless: 0, renameFailed: 0 };
  const fixed = await fixMaildir(
    { ...audit, findings },
    {
      dryRun: options.dryRun === true,
      waitMs: options.waitMs ?? 30_000,
      ...(options.locker === undefined ? {} : { locker: options.locker }),
      report: options.report,
      ...(options.onRenameProgress === undefined ? {} : { onProgress: options.onRenameProgress }),
    },
  );
  return { renamed: fixed.renamed + fixed.planned, sizeless: fixed.kept, renameFailed: fixed.failed };
}

/**
 * The messages as the scan lists them: new/ and cur/ without dot files or names that are not
 * UTF-8, one per r2d2 unique-id (cur/ first), oldest first. Throws ENOENT for a missing maildir.
 */
export async function listMessages(maildir: string): Promise<Listed[]> {
  const byNative = new Map<string, Listed>();
  let folders = 0;
  for (const dir of ['cur', 'new'] as const) {
    let names: string[];
    try {
      names = await readdir(join(maildir, dir));
      folders++;
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') continue;
      throw e;
    }
    for (const file of names.sort()) {
      if (file.startsWith('.') || file.includes('\uFFFD')) continue;
      const native = parseMaildirName(file).uidl;
      if (!byNative.has(native)) byNative.set(native, { dir, file, native });
    }
  }
  if (folders === 0) throw Object.assign(new Error(`${maildir}: no new/ and no cur/`), { code: 'ENOENT' });
  return [...byNative.values()].sort((a, b) => timeOf(a.file) - timeOf(b.file) || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

const timeOf = (file: string): number => {
  const m = /^([0-9]+)\./.exec(file);
  return m === null ? Number.MAX_SAFE_INTEGER : Number(m[1]);
};

function sameEntries(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [key, value] of a) if (b.get(key) !== value) return false;
  return true;
}
