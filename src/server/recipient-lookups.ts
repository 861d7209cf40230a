// `r2d2 deliver --recipient` asks the running engine for the maildir (control socket, command
// `recipient`) instead of loading mysql2 and connecting for each message: a process per message
// then costs about what `--maildir` costs (README, "Speed"). The engine runs the personality's
// deliver.recipient_query_format_string with the same rules as the CLI and LMTP (recipient.ts),
// on a small pool of its own, opened at the first lookup and again when a reload changes the
// database section. The CLI still delivers itself, with its own options and checks.
import type { Logger } from 'pino';
import type { Config, DatabaseConfig } from '../config/types';
import { resolveRecipient } from '../deliver/recipient';
import { openRecipientPool, type RecipientPool } from '../deliver/recipient-pool';
import { DeliveryError } from '../deliver/sysexits';
import type { ControlReply } from './control-protocol';

/** Deliveries through pipe(8) run a few at a time per MTA process limit; two connections serve them. */
const POOL_SIZE = 2;

export class RecipientLookups {
  private pool: { readonly key: string; readonly opened: Promise<RecipientPool> } | undefined;

  /** @param log the engine's log as it is now (SIGHUP reopens it). */
  constructor(private readonly log: () => Logger) {}

  async answer(config: Config, address: string): Promise<ControlReply> {
    const deliver = config.deliver;
    // The CLI then looks the recipient up itself, and says what is missing.
    if (deliver?.recipientQuery === undefined) return { ok: false, error: 'this server has no deliver.recipient_query_format_string' };
    const pool = await this.poolFor(deliver.database);
    try {
      const found = await resolveRecipient(address, deliver, config.maildirRoot, pool.run);
      this.log().debug({ recipient: address, matched: found.matched }, 'recipient found for r2d2 deliver');
      return { ok: true, command: 'recipient', answer: { maildir: found.maildir, quota: found.quota } };
    } catch (error) {
      if (!(error instanceof DeliveryError)) throw error;
      this.log().debug({ recipient: address, exitCode: error.exitCode, reason: error.message }, 'recipient refused for r2d2 deliver');
      return { ok: true, command: 'recipient', answer: { exitCode: error.exitCode, reason: error.message } };
    }
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (pool !== undefined) await closeQuietly(pool.opened);
  }

  private poolFor(database: DatabaseConfig): Promise<RecipientPool> {
    const key = JSON.stringify(database);
    if (this.pool?.key === key) return this.pool.opened;
    const before = this.pool;
    if (before !== undefined) void closeQuietly(before.opened);
    const opened = openRecipientPool(database, POOL_SIZE, this.log());
    this.pool = { key, opened };
    opened.catch(() => {
      if (this.pool?.opened === opened) this.pool = undefined; // the next lookup tries again
    });
    return opened;
  }
}

async function closeQuietly(pool: Promise<RecipientPool>): Promise<void> {
  try {
    await (await pool).close();
  } catch {
    // a pool that never opened, or is already gone
  }
}
