// Where `r2d2 deliver --recipient` delivers: asked of the running engine when the personality
// has a control socket that answers (server/recipient-lookups.ts: no mysql2 to load and no
// connection to make per message), else looked up here as before. Either way the same query and
// rules decide (deliver/recipient.ts); an engine that is not running, not reachable by this user,
// or too old to know the command only means the lookup is done here.
import type { Config, DeliverConfig } from '../config/types';
import type { QuotaDefinition } from '../maildrop/quota';
import { DeliveryError } from '../deliver/sysexits';
import type { RecipientAnswer } from '../server/control-protocol';

/** An engine answers a lookup in a query's time; past this the CLI asks the database itself. */
const ENGINE_TIMEOUT_MS = 10_000;

export interface FoundRecipient {
  readonly maildir: string;
  readonly quota: QuotaDefinition | undefined;
}

export async function findRecipient(recipient: string, config: Config, settings: DeliverConfig): Promise<FoundRecipient> {
  if (config.controlSocket !== undefined) {
    const answer = await askEngine(config.controlSocket, recipient);
    if (answer !== undefined) {
      if ('exitCode' in answer) throw new DeliveryError(answer.exitCode, answer.reason);
      return answer;
    }
  }
  const { openQueryRunner, resolveRecipient } = await import('../deliver/recipient');
  const runner = await openQueryRunner(settings.database);
  try {
    return await resolveRecipient(recipient, settings, config.maildirRoot, runner.run);
  } finally {
    await runner.close();
  }
}

async function askEngine(path: string, address: string): Promise<RecipientAnswer | undefined> {
  const { askControl } = await import('./control-client');
  try {
    const reply = await askControl(path, { command: 'recipient', address }, ENGINE_TIMEOUT_MS);
    return reply.ok && reply.command === 'recipient' ? reply.answer : undefined;
  } catch {
    return undefined; // no engine there, or not for this user: look it up here
  }
}
