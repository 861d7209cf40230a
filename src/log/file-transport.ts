import { fstatSync, writeSync } from 'node:fs';
import { LossCounter, type Transport } from './transport';

/** Past this many octets held, the turn's lines are written at once. */
const MAX_HELD_OCTETS = 64 * 1024;

/**
 * stdout or stderr of a worker thread when it is a regular file: the thread writes its lines to
 * the fd itself, the lines of one event-loop turn with one write(2). A worker's process.stdout
 * would instead post every line to the main thread, which writes it there: a thread crossing
 * per line. Lines held for the turn are no less safe than lines posted to the main thread were.
 * Lines of several threads do not mix: each write holds whole lines, to the shared open file.
 */
export class FileTransport implements Transport {
  readonly losses = new LossCounter();
  private closed = false;
  private held = '';
  private heldLines = 0;

  private readonly flush = (): void => {
    if (this.heldLines === 0) return;
    const data = Buffer.from(this.held);
    const lines = this.heldLines;
    this.held = '';
    this.heldLines = 0;
    try {
      for (let at = 0; at < data.length; ) {
        const written = writeSync(this.fd, data, at); // short only on a full disk or a size limit
        if (written === 0) throw new Error('nothing written');
        at += written;
      }
    } catch (error) {
      const reason = `${this.name}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
      for (let i = 0; i < lines; i++) this.losses.lose(reason);
    }
  };

  constructor(
    private readonly prefix: string,
    private readonly fd: number,
    private readonly name: string,
  ) {
    // A thread ending (an uncaught exception included) writes what its last turn logged.
    process.on('exit', this.flush);
  }

  send(message: string, _level: number): void {
    if (this.closed) return this.losses.lose('log closed');
    if (this.heldLines === 0) setImmediate(this.flush);
    this.held += `${this.prefix}${message}\n`;
    this.heldLines++;
    if (this.held.length >= MAX_HELD_OCTETS) this.flush();
  }

  close(): Promise<void> {
    // The fd is the process's own stdout/stderr: it stays open for the other threads.
    this.flush();
    this.closed = true;
    process.off('exit', this.flush);
    return Promise.resolve();
  }
}

/** True when `fd` is a regular file (not a pipe, socket or terminal, which Node writes asynchronously). */
export function isRegularFile(fd: number): boolean {
  try {
    return fstatSync(fd).isFile();
  } catch {
    return false;
  }
}
