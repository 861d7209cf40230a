// The unique-id the old server served each message with, by r2d2's own unique-id of the message:
// from Dovecot's dovecot-uidlist (and pop3_uidl_format), Courier's courierpop3dsizelist (or
// courierimapuiddb with a format), or the messages' X-UIDL headers.
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { EX_NOINPUT, EX_USAGE } from '../deliver/sysexits';
import { parseMaildirName } from '../maildrop/name';
import { forEachLimit, errnoCode } from '../maildrop/util';
import { MaildirToolError } from './errors';
import { readControlFile } from './uidl-sources/control-file';
import { courierUidl, CourierFileError, parseImapUidDb, parseSizelist } from './uidl-sources/courier';
import { compileUidlFormat, DOVECOT_DEFAULT_FORMAT, UidlFormatError } from './uidl-sources/dovecot-format';
import { parseUidlist, UidlistError } from './uidl-sources/dovecot-uidlist';
import { xuidlOfFile } from './uidl-sources/xuidl';
import type { Listed } from './uidl-plan';

export type Source = 'dovecot' | 'courier' | 'xuidl';

export interface SourceOptions {
  readonly from: Source;
  /** Where dovecot-uidlist is (Dovecot's CONTROL=): default the maildir itself. */
  readonly controlDir?: string;
  /** pop3_uidl_format; for Courier, a format over courierimapuiddb's IMAP UIDs. */
  readonly uidlFormat?: string;
  /** Dovecot's pop3_reuse_xuidl = yes: an X-UIDL header comes before the format. */
  readonly reuseXuidl?: boolean;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface Foreign {
  /** r2d2 unique-id -> the old server's. */
  readonly uidls: Map<string, string>;
  /** Which file was read, for the report. */
  readonly from: string;
}

const READ_CONCURRENCY = 8;

/** Throws MaildirToolError for a missing or unusable source file or a bad format. */
export async function foreignUidls(maildir: string, messages: readonly Listed[], options: SourceOptions): Promise<Foreign> {
  try {
    if (options.from === 'xuidl') return { uidls: await xuidls(maildir, messages, options.onProgress), from: 'X-UIDL headers' };
    if (options.from === 'dovecot') return await dovecot(maildir, messages, options);
    return await courier(maildir, messages, options);
  } catch (e) {
    if (e instanceof UidlFormatError) throw new MaildirToolError(EX_USAGE, `--uidl-format: ${e.message}`);
    if (e instanceof UidlistError || e instanceof CourierFileError) throw new MaildirToolError(EX_NOINPUT, `${maildir}: ${e.message}`);
    throw e;
  }
}

async function source(path: string, hint: string): Promise<string> {
  const text = await readControlFile(path);
  if (text === undefined) throw new MaildirToolError(EX_NOINPUT, `${path}: no such file${hint}`);
  return text;
}

/** What each r2d2 unique-id is called by a record's base name (the old name, before a Z was added). */
const nativeOf = (base: string): string => parseMaildirName(base).uidl;

async function dovecot(maildir: string, messages: readonly Listed[], options: SourceOptions): Promise<Foreign> {
  const format = compileUidlFormat(options.uidlFormat ?? DOVECOT_DEFAULT_FORMAT);
  const path = await uidlistPath(maildir, options.controlDir);
  let list;
  try {
    list = parseUidlist(await source(path, options.controlDir === undefined ? ' (with mail_location ...:CONTROL=DIR, give --control-dir)' : ''));
  } catch (e) {
    if (e instanceof UidlistError) throw new MaildirToolError(EX_NOINPUT, `${path}: ${e.message}: Dovecot would rebuild this file and number the messages anew`);
    throw e;
  }
  const byNative = new Map(list.records.map((r) => [nativeOf(r.base), r]));
  // pop3_reuse_xuidl: read only where Dovecot would have (listed, no saved P field).
  const listed = messages.filter((m) => byNative.has(m.native) && byNative.get(m.native)?.fields.get('P') === undefined);
  const headers = options.reuseXuidl === true ? await xuidls(maildir, listed, options.onProgress) : new Map<string, string>();
  const uidls = new Map<string, string>();
  for (const m of messages) {
    const record = byNative.get(m.native);
    if (record === undefined) continue;
    const saved = record.fields.get('P'); // pop3_save_uidl or a migration: Dovecot serves it as is
    const header = headers.get(m.native);
    const uidl = saved !== undefined ? saved || record.base : header ?? format({ uid: record.uid, uidValidity: list.uidValidity, filename: record.base, guid: record.fields.get('G') || record.base });
    uidls.set(m.native, uidl);
  }
  return { uidls, from: path };
}

/**
 * Where Dovecot keeps the INBOX's uidlist: in the maildir, or with CONTROL=DIR in DIR/.INBOX/
 * (Dovecot 2.x); --control-dir may also name the folder holding the file itself.
 */
async function uidlistPath(maildir: string, controlDir: string | undefined): Promise<string> {
  if (controlDir === undefined) return join(maildir, 'dovecot-uidlist');
  const inbox = join(controlDir, '.INBOX', 'dovecot-uidlist');
  return (await exists(inbox)) ? inbox : join(controlDir, 'dovecot-uidlist');
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return false;
    throw e;
  }
}

async function courier(maildir: string, messages: readonly Listed[], options: SourceOptions): Promise<Foreign> {
  const present = new Set(messages.map((m) => m.native));
  const uidls = new Map<string, string>();
  if (options.uidlFormat !== undefined) {
    const format = compileUidlFormat(options.uidlFormat);
    const path = join(maildir, 'courierimapuiddb');
    const db = parseImapUidDb(await source(path, ''));
    for (const r of db.records) {
      const native = nativeOf(r.base);
      if (present.has(native)) uidls.set(native, format({ uid: r.uid, uidValidity: db.uidValidity, filename: r.base, guid: r.base }));
    }
    return { uidls, from: path };
  }
  const path = join(maildir, 'courierpop3dsizelist');
  const list = parseSizelist(await source(path, " (Courier's pop3d never listed this maildir)"));
  for (const r of list.records) {
    const native = nativeOf(r.base);
    if (present.has(native) && !uidls.has(native)) uidls.set(native, courierUidl(r));
  }
  return { uidls, from: path };
}

async function xuidls(maildir: string, messages: readonly Listed[], onProgress?: (done: number, total: number) => void): Promise<Map<string, string>> {
  const uidls = new Map<string, string>();
  let done = 0;
  await forEachLimit(messages, READ_CONCURRENCY, async (m) => {
    try {
      const value = await xuidlOfFile(join(maildir, m.dir, m.file));
      if (value !== undefined) uidls.set(m.native, value);
    } catch (e) {
      // Gone meanwhile, or not a regular file (never served either).
      if (!['ENOENT', 'ELOOP', 'ENOTREG', 'EISDIR'].includes(errnoCode(e) ?? '')) throw e;
    } finally {
      onProgress?.(++done, messages.length);
    }
  });
  return uidls;
}
