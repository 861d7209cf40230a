// Exit statuses of a local delivery agent (sysexits.h), as MTAs read them: Postfix's pipe(8)
// and Exim's pipe transport defer on 75 and bounce on the others.

export const EX_OK = 0;
/** Bad command line. */
export const EX_USAGE = 64;
/** The input is not a message (empty). */
export const EX_DATAERR = 65;
/** A maildir given to `r2d2 maildir` does not exist. */
export const EX_NOINPUT = 66;
/** Unknown recipient. */
export const EX_NOUSER = 67;
/** Unknown recipient domain (deliver.domain_query_format_string found no row). */
export const EX_NOHOST = 68;
/** Refused for good: over quota with `over_quota = bounce`. */
export const EX_UNAVAILABLE = 69;
/** Anything transient: disk full, read-only or missing maildir, database down, maildrop locked. */
export const EX_TEMPFAIL = 75;
/** A personality that cannot be read (only where nothing waits in a queue; deliver answers 75). */
export const EX_CONFIG = 78;

/** A failure with the exit status it means; `message` is what the MTA shows (one line, no secrets). */
export class DeliveryError extends Error {
  /** The mailbox is over quota (75 or 69 by over_quota): LMTP answers 452 4.2.2 / 552 5.2.2. */
  readonly overQuota: boolean;

  constructor(
    readonly exitCode: number,
    message: string,
    options?: { cause?: unknown; overQuota?: boolean },
  ) {
    super(message, options);
    this.name = 'DeliveryError';
    this.overQuota = options?.overQuota === true;
  }
}
