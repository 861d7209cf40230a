// A delivery's quota: the check and the recording of the new message happen under the quota
// lock (quota-lock.ts), so no two deliveries both take the last free place.
import { join } from 'node:path';
import { appendMaildirSize, MAILDIRSIZE, MAILDIRSIZE_MAX_BYTES, MAILDIRSIZE_STALE_MS, readMaildirSize, recalculateMaildirSize, type MaildirSize } from '../maildrop/maildirsize';
import { exceeds, formatQuotaDefinition, isUnlimited, UNLIMITED, type QuotaDefinition, type QuotaUsage } from '../maildrop/quota';
import type { OpenMaildir } from './maildir-open';
import { tempfail, type WrittenMessage } from './maildir-write';
import { lockQuota } from './quota-lock';
import { DeliveryError, EX_TEMPFAIL, EX_UNAVAILABLE } from './sysexits';

export interface QuotaPolicy {
  /** undefined: whatever the maildir's maildirsize says. */
  readonly quota: QuotaDefinition | undefined;
  readonly overQuota: 'tempfail' | 'bounce' | undefined;
}

export interface QuotaState {
  readonly definition: QuotaDefinition;
  readonly usage: QuotaUsage;
  readonly maildirsize: MaildirSize | undefined;
}

/**
 * The quota of one delivery: reads (or, when missing, stale or made for another definition,
 * recalculates) maildirsize. `configured` is the definition from the configuration or the
 * database; undefined means "whatever maildirsize says". Answers the definition in force and
 * the usage, or undefined when no quota is kept for this maildir. `maildir` and `tmpDir` may be
 * `/proc/self/fd/N` paths of opened directories.
 */
export async function quotaState(maildir: string, configured: QuotaDefinition | undefined, tmpDir?: string): Promise<QuotaState | undefined> {
  const current = await readMaildirSize(maildir);
  if (current === undefined && (configured === undefined || isUnlimited(configured))) return undefined;
  const definition = configured ?? current?.definition ?? UNLIMITED;
  const sameDefinition = current !== undefined && formatQuotaDefinition(current.definition) === formatQuotaDefinition(definition);
  if (current === undefined || !current.valid || !sameDefinition || current.fileBytes >= MAILDIRSIZE_MAX_BYTES) {
    return { definition, usage: await recalculateMaildirSize(maildir, definition, tmpDir), maildirsize: undefined };
  }
  return { definition, usage: current.usage, maildirsize: current };
}

/**
 * Moves the written message into new/ with `move` when it fits the quota, and records it in
 * maildirsize; all under the quota lock when the maildir keeps a quota. Over quota, or on any
 * failure before the move, the tmp file is removed and a DeliveryError thrown.
 */
export async function moveWithinQuota(maildir: OpenMaildir, written: WrittenMessage, policy: QuotaPolicy, move: () => Promise<string>): Promise<string> {
  const discard = async (e: unknown): Promise<never> => {
    await maildir.disk.unlink(written.tmpPath).catch(() => undefined);
    throw e instanceof DeliveryError ? e : tempfail(`cannot read ${join(maildir.path, 'maildirsize')}`, e);
  };
  const configured = policy.quota !== undefined && !isUnlimited(policy.quota);
  if (!configured && ((await noMaildirSize(maildir)) || (await readMaildirSize(maildir.dir.path).catch(discard)) === undefined)) return move();
  const lock = await lockQuota(maildir.dir, maildir.path).catch(discard);
  try {
    const state = await checkQuota(maildir, policy, written.bytes).catch(discard);
    const file = await move();
    // Delivered. A failed maildirsize update is put right by the next recalculation.
    if (state !== undefined) await appendMaildirSize(maildir.dir.path, written.bytes, 1).catch(() => undefined);
    return file;
  } finally {
    await lock.release();
  }
}

/**
 * Most maildirs without a configured quota have no maildirsize: with blocking calls, one lstat
 * says so without the failed open (and the exception it builds). Anything there is read as before.
 */
async function noMaildirSize(maildir: OpenMaildir): Promise<boolean> {
  if (!maildir.disk.blocking) return false;
  return maildir.disk.lstat(maildir.dir.at(MAILDIRSIZE)).then(
    (st) => st === undefined,
    () => false,
  );
}

/** Throws when the message does not fit; answers the state, undefined when no quota is kept. */
async function checkQuota(maildir: OpenMaildir, policy: QuotaPolicy, bytes: number): Promise<QuotaState | undefined> {
  let state = await quotaState(maildir.dir.path, policy.quota, maildir.tmp.path);
  if (state === undefined) return undefined;
  if (exceeds(state.definition, state.usage, bytes, 1) && state.maildirsize !== undefined) {
    // Maildir++: before refusing on an old file's word, count again.
    if (Date.now() - state.maildirsize.mtimeMs > MAILDIRSIZE_STALE_MS) {
      state = { ...state, usage: await recalculateMaildirSize(maildir.dir.path, state.definition, maildir.tmp.path), maildirsize: undefined };
    }
  }
  if (exceeds(state.definition, state.usage, bytes, 1)) {
    const code = policy.overQuota === 'bounce' ? EX_UNAVAILABLE : EX_TEMPFAIL;
    const limit = [
      state.definition.bytes === undefined ? undefined : `${state.usage.bytes} + ${bytes} of ${state.definition.bytes} bytes`,
      state.definition.messages === undefined ? undefined : `${state.usage.messages} + 1 of ${state.definition.messages} messages`,
    ].filter((s) => s !== undefined);
    throw new DeliveryError(code, `mailbox is over quota (${limit.join(', ')})`, { overQuota: true });
  }
  return state;
}
