// Maildir++ quota (www.courier-mta.org/imap/README.maildirquota.html): `<maildir>/maildirsize`
// holds the quota definition on its first line (`10485760S,1000C`: bytes, messages; either may be
// missing) and then lines of `<bytes> <messages>`, each a delivery (+) or a removal (-). The sum of
// the lines is the usage. Lines are appended with one O_APPEND write each, so writers never
// interleave; the whole file is rewritten (tmp/ + rename) only by a recalculation. A message's
// size is the `,S=<bytes>` field of its name if it has one, else its size on disk -- what
// Courier and Dovecot count, so r2d2 and they can share one maildirsize.
import { randomBytes } from 'node:crypto';
import { lstat, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { errnoCode, forEachLimit } from './util';

export const MAILDIRSIZE = 'maildirsize';
/** Maildir++: a maildirsize that grew past this is recalculated at the next delivery. */
export const MAILDIRSIZE_MAX_BYTES = 5120;
/** Maildir++: an over-quota answer from a maildirsize older than this is checked by a recalculation. */
export const MAILDIRSIZE_STALE_MS = 15 * 60 * 1000;

/** A limit; undefined means no limit on that dimension. */
export interface QuotaDefinition {
  readonly bytes: number | undefined;
  readonly messages: number | undefined;
}

export interface QuotaUsage {
  readonly bytes: number;
  readonly messages: number;
}

export interface MaildirSize {
  /** The first line as written (the definition the file was made for). */
  readonly definitionLine: string;
  readonly definition: QuotaDefinition;
  readonly usage: QuotaUsage;
  /** File size and age: Maildir++ recalculates big or old files. */
  readonly fileBytes: number;
  readonly mtimeMs: number;
  /** false when a line could not be read: the file must be recalculated. */
  readonly valid: boolean;
}

const UNLIMITED: QuotaDefinition = { bytes: undefined, messages: undefined };

/** Parses a Maildir++ definition line (`1000S,10C`, `1000S`, `10C`, ``); undefined if malformed. */
export function parseQuotaDefinition(line: string): QuotaDefinition | undefined {
  const text = line.trim();
  if (text === '') return UNLIMITED;
  let bytes: number | undefined;
  let messages: number | undefined;
  for (const part of text.split(',')) {
    const m = /^(\d{1,15})([SC])$/.exec(part.trim());
    if (m === null) return undefined;
    const n = Number(m[1]);
    if (m[2] === 'S') bytes = n === 0 ? undefined : n;
    else messages = n === 0 ? undefined : n;
  }
  return { bytes, messages };
}

/**
 * A quota as an operator writes it (c11n, --quota, a `quota` column): a Maildir++ definition
 * (`1073741824S,50000C`), a size with an optional unit (`500M`, `2G`, `1048576`), optionally
 * followed by `,<n>C`; `0`, `none` or `unlimited` for no limit. Undefined when malformed.
 */
export function parseQuotaSpec(spec: string | number | bigint): QuotaDefinition | undefined {
  if (typeof spec !== 'string') {
    const n = Number(spec);
    return Number.isSafeInteger(n) && n >= 0 ? { bytes: n === 0 ? undefined : n, messages: undefined } : undefined;
  }
  const text = spec.trim();
  if (/^(none|unlimited)$/i.test(text)) return UNLIMITED;
  const maildirPlusPlus = parseQuotaDefinition(text);
  if (maildirPlusPlus !== undefined) return maildirPlusPlus;
  const m = /^(\d{1,15})\s*([KMGT])?i?B?\s*(?:,\s*(\d{1,15})\s*C)?$/i.exec(text);
  if (m === null) return undefined;
  const unit = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 }[(m[2] ?? '').toUpperCase()] ?? 1;
  const bytes = Number(m[1]) * unit;
  if (!Number.isSafeInteger(bytes)) return undefined;
  const messages = m[3] === undefined ? undefined : Number(m[3]);
  return { bytes: bytes === 0 ? undefined : bytes, messages: messages === 0 ? undefined : messages };
}

export function formatQuotaDefinition(def: QuotaDefinition): string {
  const parts: string[] = [];
  if (def.bytes !== undefined) parts.push(`${def.bytes}S`);
  if (def.messages !== undefined) parts.push(`${def.messages}C`);
  return parts.join(',');
}

export const isUnlimited = (def: QuotaDefinition): boolean => def.bytes === undefined && def.messages === undefined;

/** Would adding `bytes` in `messages` pass the limit? (Courier: refuse what would exceed it.) */
export function exceeds(def: QuotaDefinition, usage: QuotaUsage, bytes: number, messages: number): boolean {
  if (def.bytes !== undefined && usage.bytes + bytes > def.bytes) return true;
  return def.messages !== undefined && usage.messages + messages > def.messages;
}

/** Reads maildirsize; undefined when there is none. */
export async function readMaildirSize(maildir: string): Promise<MaildirSize | undefined> {
  let file;
  try {
    file = await open(join(maildir, MAILDIRSIZE), 'r');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const { size, mtimeMs } = await file.stat();
    const text = await file.readFile('utf8');
    const lines = text.split('\n');
    const definitionLine = lines[0] ?? '';
    const definition = parseQuotaDefinition(definitionLine);
    let bytes = 0;
    let messages = 0;
    let valid = definition !== undefined;
    for (let i = 1; i < lines.length; i++) {
      const line = (lines[i] ?? '').trim();
      if (line === '') continue;
      const m = /^(-?\d{1,15})\s+(-?\d{1,15})$/.exec(line);
      if (m === null) {
        valid = false;
        continue;
      }
      bytes += Number(m[1]);
      messages += Number(m[2]);
    }
    if (!text.endsWith('\n')) valid = false; // a writer was cut short
    return { definitionLine, definition: definition ?? UNLIMITED, usage: { bytes, messages }, fileBytes: size, mtimeMs, valid };
  } finally {
    await file.close();
  }
}

/**
 * Appends one `<bytes> <messages>` line with a single O_APPEND write. Never creates the file:
 * answers false when there is none (no quota kept on this maildir).
 */
export async function appendMaildirSize(maildir: string, bytes: number, messages: number): Promise<boolean> {
  let file;
  try {
    file = await open(join(maildir, MAILDIRSIZE), 'a');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return false;
    throw e;
  }
  try {
    await file.write(`${bytes} ${messages}\n`);
    return true;
  } finally {
    await file.close();
  }
}

/** The size Maildir++ counts for one message: `,S=<n>` in its name, else its size on disk. */
export async function quotaSizeOf(path: string): Promise<number> {
  const fromName = sizeFromName(basename(path));
  return fromName ?? (await lstat(path)).size;
}

/** `,S=<n>` in the name before the info part (Courier, Dovecot); undefined if none. */
export function sizeFromName(name: string): number | undefined {
  const colon = name.indexOf(':');
  const base = colon < 0 ? name : name.slice(0, colon);
  const m = /,S=(\d{1,15})(?:,|$)/.exec(base);
  return m === null ? undefined : Number(m[1]);
}

/** Folders Maildir++ counts: the maildir itself and its `.Folder` subfolders. */
async function folders(maildir: string): Promise<string[]> {
  const out = [maildir];
  let names: string[];
  try {
    names = await readdir(maildir);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return out;
    throw e;
  }
  for (const name of names) {
    if (!name.startsWith('.') || name === '.' || name === '..') continue;
    const st = await lstat(join(maildir, name)).catch(() => undefined);
    if (st?.isDirectory() === true) out.push(join(maildir, name));
  }
  return out;
}

/** Counts every message in new/ and cur/ of the maildir and its Maildir++ folders. */
export async function measureUsage(maildir: string): Promise<QuotaUsage> {
  let bytes = 0;
  let messages = 0;
  for (const folder of await folders(maildir)) {
    for (const sub of ['new', 'cur']) {
      const dir = join(folder, sub);
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (e) {
        if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') continue;
        throw e;
      }
      await forEachLimit(names, 16, async (name) => {
        if (name.startsWith('.')) return;
        try {
          const size = await quotaSizeOf(join(dir, name));
          bytes += size;
          messages++;
        } catch (e) {
          if (errnoCode(e) !== 'ENOENT') throw e; // removed meanwhile
        }
      });
    }
  }
  return { bytes, messages };
}

/**
 * Rewrites maildirsize from a count of the maildir: written in tmp/, fsynced, renamed over the
 * old file (readers see the old or the new file, never half of one).
 */
export async function recalculateMaildirSize(maildir: string, def: QuotaDefinition): Promise<QuotaUsage> {
  const usage = await measureUsage(maildir);
  const tmp = join(maildir, 'tmp', `${Math.floor(Date.now() / 1000)}.R${randomBytes(8).toString('hex')}.maildirsize`);
  const file = await open(tmp, 'wx', 0o600);
  try {
    await file.write(`${formatQuotaDefinition(def)}\n${usage.bytes} ${usage.messages}\n`);
    await file.sync();
    await file.close();
    await rename(tmp, join(maildir, MAILDIRSIZE));
  } catch (e) {
    await file.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  return usage;
}

/**
 * The quota check of one delivery of `bytes`: reads (or, when missing, stale or made for another
 * definition, recalculates) maildirsize. `configured` is the definition from the configuration
 * or the database; undefined means "whatever maildirsize says". Answers the definition in force
 * and the usage, or undefined when no quota is kept for this maildir.
 */
export async function quotaState(
  maildir: string,
  configured: QuotaDefinition | undefined,
): Promise<{ definition: QuotaDefinition; usage: QuotaUsage; maildirsize: MaildirSize | undefined } | undefined> {
  const current = await readMaildirSize(maildir);
  if (current === undefined && (configured === undefined || isUnlimited(configured))) return undefined;
  const definition = configured ?? current?.definition ?? UNLIMITED;
  const sameDefinition = current !== undefined && formatQuotaDefinition(current.definition) === formatQuotaDefinition(definition);
  if (current === undefined || !current.valid || !sameDefinition || current.fileBytes >= MAILDIRSIZE_MAX_BYTES) {
    return { definition, usage: await recalculateMaildirSize(maildir, definition), maildirsize: undefined };
  }
  return { definition, usage: current.usage, maildirsize: current };
}

/**
 * Counts what r2d2's UPDATE state removes, for one `-<bytes> -<messages>` line. `open` answers
 * undefined when the maildir keeps no maildirsize, so maildrops without a quota pay one stat.
 */
export class RemovalTally {
  private bytes = 0;
  private messages = 0;
  private constructor(private readonly maildir: string) {}

  static async open(maildir: string): Promise<RemovalTally | undefined> {
    try {
      await stat(join(maildir, MAILDIRSIZE));
      return new RemovalTally(maildir);
    } catch {
      return undefined;
    }
  }

  /** The size to count for a file about to be unlinked (throws ENOENT like the unlink would). */
  sizeOf(path: string): Promise<number> {
    return quotaSizeOf(path);
  }

  removed(bytes: number): void {
    this.bytes += bytes;
    this.messages++;
  }

  /** Appends the line; a failure leaves the file to the next recalculation and is not thrown. */
  async record(): Promise<void> {
    if (this.messages === 0) return;
    await appendMaildirSize(this.maildir, -this.bytes, -this.messages).catch(() => undefined);
  }
}
