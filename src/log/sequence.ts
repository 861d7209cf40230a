/**
 * The session's command sequence as r2d2 logs it: one letter per command, repeats run-length
 * encoded ("upsUr4d4q"). Bounded so a client looping on commands cannot grow a log line:
 * past the bound the sequence ends in "+".
 */
export const MAX_SEQUENCE_LENGTH = 200;

export class SequenceRecorder {
  private text = '';
  private lastLetter = '';
  private repeats = 0;
  private truncated = false;

  record(letter: string): void {
    if (this.truncated) return;
    if (letter === this.lastLetter) {
      this.repeats++;
      return;
    }
    this.flushRun();
    if (this.truncated) return;
    this.lastLetter = letter;
    this.repeats = 1;
  }

  toString(): string {
    return this.truncated ? this.text + '+' : this.text + this.run();
  }

  private run(): string {
    if (this.repeats === 0) return '';
    return this.repeats === 1 ? this.lastLetter : `${this.lastLetter}${this.repeats}`;
  }

  private flushRun(): void {
    const run = this.run();
    if (this.text.length + run.length > MAX_SEQUENCE_LENGTH) {
      this.truncated = true;
      return;
    }
    this.text += run;
  }
}
