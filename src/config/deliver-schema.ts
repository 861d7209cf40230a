// The `deliver { ... }` section of a personality: how `r2d2 deliver --recipient` finds a maildir.
// Declared here and plugged into r2d2-schema.ts (one key, one line in toConfig).
import { C11nError } from './errors';
import { queryFormatCheck } from './query-format-check';
import { bool, oneOf, section, str, where } from './schema';
import type { DatabaseConfig, DeliverConfig } from './types';
import { parseQuotaSpec } from '../maildrop/quota';

/** %u %l %d %% -- a delivery has no password and no client address. */
const checkRecipientQueryFormat = queryFormatCheck('uld', 'a recipient query has %u %l %d and %%');

const checkQuota = (spec: string): string | undefined =>
  parseQuotaSpec(spec) === undefined ? `must be a size (500M, 2G, 1048576), a Maildir++ quota (1048576S,1000C) or none, got ${JSON.stringify(spec)}` : undefined;

const checkDelimiter = (d: string): string | undefined =>
  /^[^\s@%]{1,8}$/.test(d) ? undefined : `must be 1 to 8 characters (no space, @ or %), got ${JSON.stringify(d)}`;

export const deliverSchema = section({
  recipient_query_format_string: str().check(checkRecipientQueryFormat),
  domain_query_format_string: str().check(checkRecipientQueryFormat),
  database: str(),
  recipient_delimiter: str().check(checkDelimiter),
  quota: str().check(checkQuota),
  over_quota: oneOf(['tempfail', 'bounce']).default('tempfail'),
  create_maildir: bool().default(true),
  // Store new mail with CRLF line ends (Dovecot's mail_save_crlf): RETR then sends it as it is.
  store_crlf: bool().default(false),
});

type DeliverDoc = ReturnType<(typeof deliverSchema)['body']>;

/**
 * The section as a DeliverConfig; undefined when the personality has no `deliver` section
 * (then `r2d2 deliver` works with --maildir only). `database` defaults to the accounts database.
 */
export function toDeliverConfig(
  doc: DeliverDoc,
  present: boolean,
  databases: readonly DatabaseConfig[],
  accounts: DatabaseConfig,
): DeliverConfig | undefined {
  if (!present) return undefined;
  let database = accounts;
  if (doc.database !== undefined) {
    const found = databases.find((d) => d.name === doc.database);
    if (found === undefined) {
      const at = where(doc, 'database') ?? where(doc);
      const known = databases.map((d) => d.name).join(', ');
      const message = `"database" names no database section: ${JSON.stringify(doc.database)} (known: ${known})`;
      throw at === undefined ? new Error(message) : C11nError.at(at, message);
    }
    database = found;
  }
  return {
    recipientQuery: doc.recipient_query_format_string,
    domainQuery: doc.domain_query_format_string,
    database,
    recipientDelimiter: doc.recipient_delimiter,
    quota: doc.quota,
    overQuota: doc.over_quota,
    createMaildir: doc.create_maildir,
    storeCrlf: doc.store_crlf,
  };
}
