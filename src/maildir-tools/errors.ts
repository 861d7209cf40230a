// The failure `r2d2 maildir` reports with an exit status of its own (sysexits.h numbers, as
// src/deliver/sysexits.ts lists them); other errors are read by their errno code.

/** A failure of check or fix with the exit status it means; `message` is what the operator sees. */
export class MaildirToolError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'MaildirToolError';
  }
}
