// What an LMTP client reads for each recipient: the sysexits of `r2d2 deliver` as SMTP replies.
// smtp-server adds the enhanced status code (RFC 3463) from the reply code: 250 2.6.0 after DATA,
// 550 5.1.1, 553 5.1.3, 451 4.3.0, 452 4.2.2, 552 5.2.2, 554 5.6.0. The text names the recipient
// and never carries internal detail (paths, errno): that goes to the log.
import { DeliveryError, EX_DATAERR, EX_NOHOST, EX_NOUSER, EX_UNAVAILABLE, EX_USAGE } from '../deliver/sysexits';
import type { Outcome } from './transaction';

/** An error smtp-server sends as `<responseCode> <enhanced code> <message>`. */
export class LmtpReply extends Error {
  constructor(
    readonly responseCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'LmtpReply';
  }
}

/** RCPT TO refused: the recipient query's answer. */
export function rcptRefusal(address: string, e: unknown): LmtpReply {
  const who = `<${address}>`;
  if (!(e instanceof DeliveryError)) return new LmtpReply(451, `${who} temporary failure, try again later`);
  switch (e.exitCode) {
    case EX_NOUSER:
      return new LmtpReply(550, `${who} unknown user`);
    case EX_NOHOST:
      return new LmtpReply(550, `${who} unknown domain`);
    case EX_USAGE:
      return new LmtpReply(553, `${who} not a recipient address`);
    default:
      return new LmtpReply(451, `${who} temporary failure, try again later`);
  }
}

/** The reply after DATA for one recipient (RFC 2033 §4.2): a string for 250, an LmtpReply otherwise. */
export function dataReply(address: string, outcome: Outcome, maxMessageSize: number | undefined): string | LmtpReply {
  const who = `<${address}>`;
  if (outcome.kind === 'delivered') return `${who} delivered as ${outcome.file}`;
  if (outcome.kind === 'oversized') return new LmtpReply(552, `${who} message exceeds fixed maximum message size ${maxMessageSize ?? ''}`.trimEnd());
  const e = outcome.error;
  if (e.overQuota) return e.exitCode === EX_UNAVAILABLE ? new LmtpReply(552, `${who} mailbox is over quota`) : new LmtpReply(452, `${who} mailbox is over quota, try again later`);
  if (e.exitCode === EX_DATAERR) return new LmtpReply(554, `${who} empty message: nothing to deliver`);
  if (e.exitCode === EX_UNAVAILABLE) return new LmtpReply(552, `${who} refused`);
  return new LmtpReply(451, `${who} temporary failure, try again later`);
}
