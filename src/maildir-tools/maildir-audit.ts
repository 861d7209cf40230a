// `r2d2 maildir check`: everything in a maildir that r2d2 cannot serve from names alone, or that
// an operator should know about. Reads; never changes anything.
import { lstat, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readMaildirSize } from '../maildrop/maildirsize';
import type { QuotaUsage } from '../maildrop/quota';
import { measureUsage } from '../maildrop/quota-usage';
import { parseMaildirName } from '../maildrop/name';
import { readUidlIndex } from '../maildrop/uidl-index';
import { rfc822SizeOfFile } from '../maildrop/rfc822-size';
import { errnoCode, forEachLimit } from '../maildrop/util';
import { problemOf, type Problem } from './name-fix';

/** Maildir: a tmp/ file untouched this long is litter (cr.yp.to/proto/maildir.html). */
export const STALE_TMP_MS = 36 * 3600 * 1000;
const READ_CONCURRENCY = 8;

export interface FileId {
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
}

/** A message whose name r2d2 cannot use. */
export interface BadName {
  readonly dir: 'new' | 'cur';
  /** The name as a string (U+FFFD where it was not UTF-8). */
  readonly name: string;
  /** The name's bytes, for opening and renaming it. */
  readonly raw: Buffer;
  readonly problem: Problem;
  /** The size the name claims, if any. */
  readonly nameSize: number | undefined;
  readonly realSize: number;
  readonly id: FileId;
}

export type Finding =
  | { readonly kind: 'name'; readonly bad: BadName }
  | { readonly kind: 'missing-dir'; readonly dir: string }
  | { readonly kind: 'not-a-directory'; readonly dir: string }
  | { readonly kind: 'not-a-file'; readonly path: string }
  | { readonly kind: 'duplicate'; readonly uidl: string; readonly paths: readonly string[] }
  | { readonly kind: 'stale-tmp'; readonly path: string; readonly raw: Buffer; readonly hours: number }
  | { readonly kind: 'maildirsize'; readonly recorded: QuotaUsage | undefined; readonly actual: QuotaUsage }
  /** The imported-UIDL index (import-uidls): not used, lines skipped, or entries for messages gone. */
  | { readonly kind: 'uidl-index'; readonly problem: string };

export interface Audit {
  readonly maildir: string;
  /** Regular files in new/ and cur/ (each a message to r2d2). */
  readonly messages: number;
  readonly findings: readonly Finding[];
}

export interface AuditOptions {
  /** Trust sizes in names (do not read files whose names carry one). */
  readonly quick?: boolean;
  /** Called as files are examined: (done, total). */
  readonly onProgress?: (done: number, total: number) => void;
  readonly now?: number;
}

interface Listed {
  dir: 'new' | 'cur';
  raw: Buffer;
  name: string;
}

/** Examines new/, cur/, tmp/ and maildirsize. Throws ENOENT when the maildir does not exist. */
export async function auditMaildir(maildir: string, options: AuditOptions = {}): Promise<Audit> {
  const top = await stat(maildir);
  if (!top.isDirectory()) throw Object.assign(new Error(`${maildir} is not a directory`), { code: 'ENOTDIR' });
  const findings: Finding[] = [];
  const listed: Listed[] = [];
  for (const dir of ['new', 'cur', 'tmp'] as const) {
    const names = await listDir(maildir, dir, findings);
    if (dir === 'tmp') {
      await staleTmp(maildir, names, options.now ?? Date.now(), findings);
      continue;
    }
    for (const raw of names) {
      const name = raw.toString('utf8');
      if (name.startsWith('.')) continue;
      listed.push({ dir, raw, name });
    }
  }

  let done = 0;
  let messages = 0;
  const byUidl = new Map<string, string[]>();
  const bad: BadName[] = [];
  await forEachLimit(listed, READ_CONCURRENCY, async (f) => {
    const path = rawPath(maildir, f.dir, f.raw);
    try {
      const st = await lstat(path);
      if (!st.isFile()) {
        findings.push({ kind: 'not-a-file', path: `${f.dir}/${f.name}` });
        return;
      }
      messages++;
      const nameSize = parseMaildirName(f.name).size;
      const trusted = nameSize !== undefined && !f.name.includes('\uFFFD');
      const realSize = trusted && options.quick === true ? undefined : await rfc822SizeOfFile(path);
      const problem = problemOf(f.name, realSize);
      if (!f.name.includes('\uFFFD')) {
        const uidl = parseMaildirName(f.name).uidl;
        const same = byUidl.get(uidl);
        if (same === undefined) byUidl.set(uidl, [`${f.dir}/${f.name}`]);
        else same.push(`${f.dir}/${f.name}`);
      }
      if (problem !== undefined && realSize !== undefined) {
        bad.push({ dir: f.dir, name: f.name, raw: f.raw, problem, nameSize, realSize, id: { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs } });
      }
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw e; // removed meanwhile
    } finally {
      options.onProgress?.(++done, listed.length);
    }
  });
  if (listed.length === 0) options.onProgress?.(0, 0);

  bad.sort((a, b) => (a.dir + a.name < b.dir + b.name ? -1 : 1));
  for (const b of bad) findings.push({ kind: 'name', bad: b });
  for (const [uidl, paths] of byUidl) if (paths.length > 1) findings.push({ kind: 'duplicate', uidl, paths: paths.sort() });
  await checkMaildirSize(maildir, findings);
  await checkUidlIndex(maildir, new Set(byUidl.keys()), findings);
  return { maildir, messages, findings };
}

/** A path from the maildir, a subdirectory and a raw (possibly not UTF-8) name. */
export function rawPath(maildir: string, dir: string, raw: Buffer): Buffer {
  return Buffer.concat([Buffer.from(join(maildir, dir) + '/'), raw]);
}

async function listDir(maildir: string, dir: string, findings: Finding[]): Promise<Buffer[]> {
  try {
    return await readdir(join(maildir, dir), { encoding: 'buffer' });
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT') findings.push({ kind: 'missing-dir', dir });
    else if (code === 'ENOTDIR') findings.push({ kind: 'not-a-directory', dir });
    else throw e;
    return [];
  }
}

async function staleTmp(maildir: string, names: readonly Buffer[], now: number, findings: Finding[]): Promise<void> {
  for (const raw of names) {
    const st = await lstat(rawPath(maildir, 'tmp', raw)).catch(() => undefined);
    if (st === undefined || !st.isFile()) continue;
    const age = now - Math.max(st.mtimeMs, st.atimeMs);
    if (age > STALE_TMP_MS) findings.push({ kind: 'stale-tmp', path: `tmp/${raw.toString('utf8')}`, raw, hours: Math.floor(age / 3_600_000) });
  }
}

async function checkUidlIndex(maildir: string, present: ReadonlySet<string>, findings: Finding[]): Promise<void> {
  const read = await readUidlIndex(maildir);
  if (read.kind === 'none') return;
  if (read.kind === 'ignored') {
    findings.push({ kind: 'uidl-index', problem: `not used (${read.why}): the maildrop is served with r2d2's own unique-ids; run import-uidls again` });
    return;
  }
  if (read.index.rejected > 0) findings.push({ kind: 'uidl-index', problem: `${read.index.rejected} lines skipped (not two unique-ids, or a repeated one)` });
  const gone = [...read.index.entries.keys()].filter((key) => !present.has(key)).length;
  if (gone > 0) findings.push({ kind: 'uidl-index', problem: `${gone} of ${read.index.entries.size} entries for messages no longer there (the next import drops them)` });
}

async function checkMaildirSize(maildir: string, findings: Finding[]): Promise<void> {
  const file = await readMaildirSize(maildir);
  if (file === undefined) return;
  const actual = await measureUsage(maildir);
  const recorded = file.valid ? file.usage : undefined;
  if (recorded === undefined || recorded.bytes !== actual.bytes || recorded.messages !== actual.messages) {
    findings.push({ kind: 'maildirsize', recorded, actual });
  }
}
