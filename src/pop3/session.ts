import { SequenceRecorder } from '../log/sequence';
import { runTransaction } from './arguments';
import { parseCommand } from './command';
import { COMMANDS, INVALID_LETTER } from './command-table';
import type { Outcome, SessionContext } from './commands/context';
import { saslResponse } from './commands/sasl';
import type { LineEvent } from './line-reader';
import { err, statusLine, type Reply } from './replies';
import type { CloseReason, SaslStep, SessionState } from './state';

export interface Step {
  readonly reply: Reply;
  readonly close?: CloseReason;
  /** Run the TLS handshake once this reply is written, then call restartAfterTls(). */
  readonly startTls?: boolean;
}

/**
 * One POP3 session, without I/O: takes command lines, returns replies. It owns the state
 * machine (RFC 1939 §3), the bad-command count and the sequence recorder.
 */
export class Pop3Session {
  state: SessionState = { kind: 'AUTHORIZATION', user: undefined };
  readonly sequence = new SequenceRecorder();
  private badCommands = 0;

  constructor(
    private readonly ctx: SessionContext,
    private readonly maxBadCommands: number,
  ) {}

  /** AUTH sent "+ ": the next line is a SASL response, not a command. */
  get awaitingSaslResponse(): boolean {
    return this.state.kind === 'AUTHORIZATION' && this.state.sasl !== undefined;
  }

  /** The greeting line, CRLF included (RFC 1939 §4). */
  greeting(): string {
    return statusLine(true, `${this.ctx.implementation} ready`);
  }

  async handle(event: LineEvent): Promise<Step> {
    const current = this.state;
    if (current.kind === 'AUTHORIZATION' && current.sasl !== undefined) return this.saslStep(current.sasl, event);
    if (event.kind === 'too-long') {
      this.sequence.record(INVALID_LETTER);
      return this.bad(err('command line too long'));
    }
    const parsed = parseCommand(event.line);
    if (parsed.kind === 'invalid') {
      this.sequence.record(INVALID_LETTER);
      return this.bad(err(parsed.reason));
    }
    const command = parsed.command;
    const spec = COMMANDS.get(command.name);
    if (spec === undefined) {
      this.sequence.record(INVALID_LETTER);
      return this.bad(err('unknown command'));
    }
    this.sequence.record(spec.letter(command));
    const state = this.state;
    const { authorization, transaction } = spec;
    if (state.kind === 'AUTHORIZATION' && authorization) return this.run(command.name, () => authorization(command, state, this.ctx));
    if (state.kind === 'TRANSACTION' && transaction) return this.run(command.name, () => runTransaction(transaction, command, state, this.ctx));
    return this.bad(err(`${command.name} is not valid in this state`));
  }

  /** The client's answer to AUTH's "+ " (RFC 5034 §4): not a command, never logged. */
  private async saslStep(step: SaslStep, event: LineEvent): Promise<Step> {
    if (event.kind === 'too-long') {
      this.state = { kind: 'AUTHORIZATION', user: undefined };
      return this.bad(err('SASL response too long'));
    }
    const line = event.line.toString('latin1');
    return this.run('AUTH', () => saslResponse(step, line, this.ctx), { kind: 'AUTHORIZATION', user: undefined });
  }

  /** Runs a handler and applies its outcome; `onError` is the state after an internal error. */
  private async run(name: string, handler: () => Outcome | Promise<Outcome>, onError?: SessionState): Promise<Step> {
    let outcome: Outcome;
    try {
      outcome = await handler();
    } catch (error) {
      // Internal text never reaches the client (DESIGN: errors with meaning).
      this.ctx.log.error({ err: error, command: name }, 'command failed');
      if (onError !== undefined) this.state = onError;
      return { reply: err('[SYS/TEMP] internal error, try again later') };
    }
    if (outcome.next !== undefined) this.state = outcome.next;
    if (outcome.bad === true) return this.bad(outcome.reply);
    this.badCommands = 0;
    if (outcome.startTls === true) return { reply: outcome.reply, startTls: true };
    return outcome.close !== undefined ? { reply: outcome.reply, close: outcome.close } : { reply: outcome.reply };
  }

  /** RFC 2595 §4: after the handshake the session starts over in AUTHORIZATION, knowing nothing. */
  restartAfterTls(): void {
    if (this.state.kind === 'AUTHORIZATION') this.state = { kind: 'AUTHORIZATION', user: undefined };
  }

  /** The session ended without QUIT: release the maildrop, apply no deletions (RFC 1939 §6). */
  async abandon(): Promise<void> {
    const state = this.state;
    this.state = { kind: 'UPDATE' };
    if (state.kind === 'TRANSACTION') await state.drop.release();
  }

  /** Bad commands in a row (Dovecot's bad_counter): a good command resets it. */
  private bad(reply: Reply): Step {
    this.badCommands++;
    if (this.badCommands >= this.maxBadCommands) {
      return { reply: err('too many bad commands, closing'), close: 'too many bad commands' };
    }
    return { reply };
  }
}
