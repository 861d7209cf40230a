// A progress bar for long maildir runs, on stderr: redrawn in place on a terminal, one line per
// 10% elsewhere (a log file should not fill with carriage returns).

export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

const WIDTH = 30;

export class ProgressBar {
  private shown = -1;
  private finished = false;

  constructor(
    private readonly stream: ProgressStream,
    private readonly label: string,
  ) {}

  update(done: number, total: number): void {
    if (this.finished) return;
    const percent = total === 0 ? 100 : Math.floor((done * 100) / total);
    const tty = this.stream.isTTY === true;
    const step = tty ? percent : percent - (percent % 10);
    if (step === this.shown) return;
    this.shown = step;
    const filled = Math.round((WIDTH * percent) / 100);
    const bar = `${this.label} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${String(percent).padStart(3)}% ${done}/${total}`;
    this.stream.write(tty ? `\r${bar}` : `${bar}\n`);
    if (done >= total) this.finish();
  }

  finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.stream.isTTY === true && this.shown >= 0) this.stream.write('\n');
  }
}

/** --progress forces it, --no-progress turns it off; by default on a terminal for 1,000 files or more. */
export function wantProgress(option: boolean | undefined, stream: ProgressStream, files: number): boolean {
  return option ?? (stream.isTTY === true && files >= 1000);
}
