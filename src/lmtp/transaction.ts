// One LMTP transaction's delivery: the message is streamed once into the first recipient's
// tmp/ (fsynced: it is that recipient's file), then every other recipient gets the same bytes
// by a hard link into its own tmp/ -- a copy where the link crosses filesystems -- or, with
// per-recipient header lines (Delivered-To), a file of its own: its lines, then the message
// read back from the first file. Each file then goes into new/ as `r2d2 deliver` does it (quota
// lock, link, fsync of new/); the first recipient's file goes last, so its tmp name is the source
// until the end. A failure leaves nothing of its own in tmp/ or new/.
import { createReadStream } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { deliveryDisk } from '../deliver/disk';
import { openMaildir, type OpenMaildir } from '../deliver/maildir-open';
import { moveToNew, tempfail, tmpName, writeTmp, type WrittenMessage } from '../deliver/maildir-write';
import { moveWithinQuota } from '../deliver/quota-check';
import { DeliveryError, EX_DATAERR } from '../deliver/sysexits';
import type { QuotaDefinition } from '../maildrop/quota';
import { NO_LINK_ACROSS_DIRS } from '../maildrop/link-fallback';
import { errnoCode } from '../maildrop/util';
import { MessageSource, OversizedMessage, type DataStream } from './message-source';

export interface Recipient {
  /** As the client gave it in RCPT TO. */
  readonly address: string;
  readonly maildir: string;
  /** From the recipient query's `quota` column, else the deliver section's; undefined: maildirsize's. */
  readonly quota: QuotaDefinition | undefined;
}

export interface TransactionSettings {
  readonly maildirRoot: string | undefined;
  readonly createMaildir: boolean;
  readonly overQuota: 'tempfail' | 'bounce';
  readonly deliveredTo: boolean;
  readonly returnPath: boolean;
  /** `deliver { store_crlf = yes }`: files keep the CRLF line ends LMTP carries. */
  readonly storeCrlf: boolean;
  /** `blocking_file_io`: file calls other than fsync block (a local disk; see deliver/disk.ts). */
  readonly blockingFileIo?: boolean;
  readonly host?: string;
}

export type Outcome =
  | { readonly kind: 'delivered'; readonly file: string; readonly size: number; readonly bytes: number; readonly linked: boolean }
  | { readonly kind: 'failed'; readonly error: DeliveryError }
  | { readonly kind: 'oversized' };

export interface TransactionResult {
  /** One per recipient, in order. */
  readonly outcomes: readonly Outcome[];
  /** Octets of DATA received. */
  readonly received: number;
  /** The whole message came (false: the client went away mid-DATA, nothing was delivered). */
  readonly complete: boolean;
}

/** Delivers the DATA `stream` from `sender` (`''` for <>) to each recipient; reads the stream to its end. */
export async function deliverTransaction(stream: DataStream, sender: string, recipients: readonly Recipient[], settings: TransactionSettings): Promise<TransactionResult> {
  const host = settings.host ?? hostname();
  const source = new MessageSource(stream, settings.storeCrlf);
  const crlf = settings.storeCrlf;
  const outcomes = new Array<Outcome | undefined>(recipients.length).fill(undefined);
  const prefixOf = (r: Recipient): Buffer => headerLines(sender, r.address, settings);
  const deliverWritten = async (maildir: OpenMaildir, written: WrittenMessage, r: Recipient, linked: boolean): Promise<Outcome> => {
    const policy = { quota: r.quota, overQuota: settings.overQuota };
    const file = await moveWithinQuota(maildir, written, policy, () => moveToNew(maildir, written, host));
    return { kind: 'delivered', file, size: written.size, bytes: written.bytes, linked };
  };
  const disk = deliveryDisk(settings.blockingFileIo ?? false);
  const open = (r: Recipient): Promise<OpenMaildir> => openMaildir(r.maildir, { create: settings.createMaildir, root: settings.maildirRoot, disk });

  // The first recipient whose tmp/ takes the message holds it; those before it failed.
  let first: { index: number; maildir: OpenMaildir; written: WrittenMessage } | undefined;
  for (let i = 0; i < recipients.length && first === undefined; i++) {
    const r = recipients[i] as Recipient;
    let maildir: OpenMaildir | undefined;
    try {
      maildir = await open(r);
      const written = await writeTmp(maildir, source.chunks(prefixOf(r)), { keepFromLine: true, host, crlf });
      first = { index: i, maildir, written };
    } catch (e) {
      await maildir?.close();
      if (!source.started) {
        outcomes[i] = failure(e);
        continue;
      }
      // The message was (partly) read: no other recipient can have it now.
      await source.drain();
      const outcome: Outcome = source.oversized || e instanceof OversizedMessage ? { kind: 'oversized' } : { kind: 'failed', error: toDeliveryError(e) };
      for (let j = i; j < recipients.length; j++) outcomes[j] = outcome;
      return { outcomes: outcomes as Outcome[], received: source.received, complete: !source.aborted };
    }
  }
  await source.drain();
  if (first === undefined) return { outcomes: outcomes as Outcome[], received: source.received, complete: !source.aborted };
  const { index, maildir: firstMaildir, written: firstWritten } = first;
  try {
    if (source.received === 0) {
      // RFC 2033 §4.2 wants a reply per recipient; an empty DATA is no message (554 5.6.0).
      await disk.unlink(firstWritten.tmpPath).catch(() => undefined);
      const empty: Outcome = { kind: 'failed', error: new DeliveryError(EX_DATAERR, 'empty message: nothing to deliver') };
      for (let j = index; j < recipients.length; j++) outcomes[j] = empty;
      return { outcomes: outcomes as Outcome[], received: 0, complete: true };
    }
    const skip = prefixOf(recipients[index] as Recipient).length;
    for (let j = index + 1; j < recipients.length; j++) {
      const r = recipients[j] as Recipient;
      let maildir: OpenMaildir | undefined;
      try {
        maildir = await open(r);
        const own = settings.deliveredTo;
        const written = own
          ? { message: await writeTmp(maildir, copyWithPrefix(prefixOf(r), firstWritten.tmpPath, skip), { keepFromLine: true, host, crlf }), linked: false }
          : await linkOrCopy(firstWritten, maildir, host, crlf);
        outcomes[j] = await deliverWritten(maildir, written.message, r, written.linked);
      } catch (e) {
        outcomes[j] = failure(e);
      } finally {
        await maildir?.close();
      }
    }
    const shared = outcomes.some((o, j) => j > index && o?.kind === 'delivered' && o.linked);
    try {
      outcomes[index] = await deliverWritten(firstMaildir, firstWritten, recipients[index] as Recipient, shared);
    } catch (e) {
      outcomes[index] = failure(e);
    }
  } finally {
    // Gone already when delivered (moveToNew removed it); else make sure.
    if (outcomes[index]?.kind !== 'delivered') await disk.unlink(firstWritten.tmpPath).catch(() => undefined);
    await firstMaildir.close();
  }
  return { outcomes: outcomes as Outcome[], received: source.received, complete: !source.aborted };
}

/**
 * `Return-Path: <sender>` and `Delivered-To: recipient` as configured (RFC 5321 §4.4; Postfix's D
 * and R), with the line ends the file is stored with: its length is where the message starts.
 */
function headerLines(sender: string, recipient: string, settings: TransactionSettings): Buffer {
  const clean = (s: string): string => s.replace(/[\x00-\x1f\x7f]/g, '');
  const eol = settings.storeCrlf ? '\r\n' : '\n';
  let text = '';
  if (settings.returnPath) text += `Return-Path: <${clean(sender)}>${eol}`;
  if (settings.deliveredTo) text += `Delivered-To: ${clean(recipient)}${eol}`;
  return Buffer.from(text, 'utf8');
}

async function* copyWithPrefix(prefix: Buffer, file: string, skip: number): AsyncGenerator<Buffer> {
  if (prefix.length > 0) yield prefix;
  for await (const chunk of createReadStream(file, { start: skip, highWaterMark: 256 * 1024 })) yield chunk as Buffer;
}

/** The same file in `maildir`'s tmp/: a hard link, or a copy (fsynced) where no link can be made. */
async function linkOrCopy(source: WrittenMessage, maildir: OpenMaildir, host: string, crlf: boolean): Promise<{ message: WrittenMessage; linked: boolean }> {
  const name = tmpName(host);
  const tmpPath = maildir.tmp.at(name);
  const shownPath = join(maildir.path, 'tmp', name);
  try {
    await maildir.disk.link(source.tmpPath, tmpPath);
    return { message: { tmpPath, shownPath, size: source.size, bytes: source.bytes }, linked: true };
  } catch (e) {
    if (!NO_LINK_ACROSS_DIRS.has(errnoCode(e) ?? '')) throw tempfail(`cannot link the message into ${join(maildir.path, 'tmp')}`, e);
  }
  const copy = await writeTmp(maildir, copyWithPrefix(Buffer.alloc(0), source.tmpPath, 0), { keepFromLine: true, host, crlf });
  return { message: copy, linked: false };
}

function toDeliveryError(e: unknown): DeliveryError {
  return e instanceof DeliveryError ? e : tempfail('internal error', e);
}

function failure(e: unknown): Outcome {
  return { kind: 'failed', error: toDeliveryError(e) };
}

