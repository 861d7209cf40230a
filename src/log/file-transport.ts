import { fstatSync, writeSync } from 'node:fs';
import { LossCounter, type Transport } from './transport';

/**
 * stdout or stderr of a worker thread when it is a regular file: each line written to the fd
 * at once, with one write(2), as the main thread's process.stdout does for a file (Node writes
 * files synchronously). A worker's process.stdout would instead post every line to the main
 * thread, which writes it there: a thread crossing per line. Lines of several threads do not
 * mix: each is one write to the shared open file.
 */
export class FileTransport implements Transport {
  readonly losses = new LossCounter();
  private closed = false;

  constructor(
    private readonly prefix: string,
    private readonly fd: number,
    private readonly name: string,
  ) {}

  send(message: string, _level: number): void {
    if (this.closed) return this.losses.lose('log closed');
    const line = Buffer.from(`${this.prefix}${message}\n`);
    try {
      const written = writeSync(this.fd, line);
      if (written < line.length) this.finish(line, written); // a full disk, a file size limit
    } catch (error) {
      this.losses.lose(`${this.name}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }

  /** The rest of a line the kernel took only part of. */
  private finish(line: Buffer, from: number): void {
    for (let at = from; at < line.length; ) {
      const written = writeSync(this.fd, line, at);
      if (written === 0) return this.losses.lose(`${this.name}: nothing written`);
      at += written;
    }
  }

  close(): Promise<void> {
    // The fd is the process's own stdout/stderr: it stays open for the other threads.
    this.closed = true;
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
