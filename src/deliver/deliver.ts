// One delivery, in-process: what `r2d2 deliver` runs once per invocation. Throws a
// DeliveryError whose exitCode is the sysexits status to answer the MTA.
import { hostname } from 'node:os';
import { join } from 'node:path';
import { unlink } from 'node:fs/promises';
import { appendMaildirSize, exceeds, MAILDIRSIZE_STALE_MS, quotaState, recalculateMaildirSize, type QuotaDefinition } from '../maildrop/maildirsize';
import { DeliveryError, EX_TEMPFAIL, EX_UNAVAILABLE } from './sysexits';
import { moveToNew, prepareMaildir, tempfail, writeTmp } from './maildir-write';

export interface DeliveryOptions {
  /** Absolute path of the maildir (the folder holding tmp/ new/ cur/). */
  readonly maildir: string;
  /** When set, the maildir must lie inside it, also after symlinks are followed. */
  readonly maildirRoot?: string | undefined;
  /** Create a missing maildir (default true). */
  readonly create?: boolean | undefined;
  /**
   * The quota to enforce (Maildir++); undefined: whatever the maildir's maildirsize says (none
   * when it has none). An unlimited definition still keeps an existing maildirsize up to date.
   */
  readonly quota?: QuotaDefinition | undefined;
  /** Over quota: `tempfail` (75, default) or `bounce` (69). */
  readonly overQuota?: 'tempfail' | 'bounce' | undefined;
  /** Keep a leading mbox `From ` line (dropped by default). */
  readonly keepFromLine?: boolean | undefined;
  /** The host part of the name (default: os.hostname()). */
  readonly host?: string | undefined;
}

export interface Delivered {
  /** The file's path in new/. */
  readonly path: string;
  /** Its name (`<sec>.M<usec>P<pid>Q<n>Z<HEX>.<host>`). */
  readonly file: string;
  /** rfc822 size, as in the name and as POP3 LIST reports it. */
  readonly size: number;
  /** Octets on disk. */
  readonly bytes: number;
}

export async function deliverMessage(input: Buffer | AsyncIterable<Uint8Array>, options: DeliveryOptions): Promise<Delivered> {
  const host = options.host ?? hostname();
  const maildir = await prepareMaildir(options.maildir, { create: options.create ?? true, root: options.maildirRoot });
  const written = await writeTmp(maildir, input, { keepFromLine: options.keepFromLine, host });
  let keepsQuota = false;
  try {
    keepsQuota = await checkQuota(maildir, options, written.bytes);
  } catch (e) {
    await unlink(written.tmpPath).catch(() => undefined);
    throw e instanceof DeliveryError ? e : tempfail(`cannot read ${join(maildir, 'maildirsize')}`, e);
  }
  const file = await moveToNew(maildir, written, host);
  // Delivered. A failed maildirsize update is put right by the next recalculation.
  if (keepsQuota) await appendMaildirSize(maildir, written.bytes, 1).catch(() => undefined);
  return { path: join(maildir, 'new', file), file, size: written.size, bytes: written.bytes };
}

/** Throws when the message does not fit; answers whether the maildir keeps a maildirsize. */
async function checkQuota(maildir: string, options: DeliveryOptions, bytes: number): Promise<boolean> {
  let state = await quotaState(maildir, options.quota);
  if (state === undefined) return false;
  if (exceeds(state.definition, state.usage, bytes, 1) && state.maildirsize !== undefined) {
    // Maildir++: before refusing on an old file's word, count again.
    if (Date.now() - state.maildirsize.mtimeMs > MAILDIRSIZE_STALE_MS) {
      state = { ...state, usage: await recalculateMaildirSize(maildir, state.definition), maildirsize: undefined };
    }
  }
  if (exceeds(state.definition, state.usage, bytes, 1)) {
    const code = options.overQuota === 'bounce' ? EX_UNAVAILABLE : EX_TEMPFAIL;
    const limit = [
      state.definition.bytes === undefined ? undefined : `${state.usage.bytes} + ${bytes} of ${state.definition.bytes} bytes`,
      state.definition.messages === undefined ? undefined : `${state.usage.messages} + 1 of ${state.definition.messages} messages`,
    ].filter((s) => s !== undefined);
    throw new DeliveryError(code, `mailbox is over quota (${limit.join(', ')})`);
  }
  return true;
}
