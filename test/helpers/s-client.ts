import { spawn, type ChildProcess } from 'node:child_process';
import type { Test } from 'tap';

/**
 * A live `openssl s_client` (not -quiet) whose stdin the test writes line by line: it reads
 * what the server says and what s_client reports (handshakes, "Reused", alerts) as it happens.
 */
export class SClient {
  private output = '';
  private readonly child: ChildProcess;
  /** The exit code once s_client has ended. */
  readonly exited: Promise<number | null>;

  constructor(t: Test, args: readonly string[]) {
    this.child = spawn('openssl', ['s_client', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (d: Buffer) => (this.output += d.toString('latin1')));
    this.child.stderr?.on('data', (d: Buffer) => (this.output += d.toString('latin1')));
    this.child.stdin?.on('error', () => undefined); // s_client gone: the test looks at its output
    this.exited = new Promise((resolve) => this.child.once('close', (code) => resolve(code)));
    t.teardown(() => {
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    });
  }

  get text(): string {
    return this.output;
  }

  write(line: string): void {
    this.child.stdin?.write(line + '\n');
  }

  /** Ends stdin and waits for s_client to exit (killed after `timeoutMs`). */
  async finish(timeoutMs = 10_000): Promise<number | null> {
    this.child.stdin?.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  /** Resolves when the output matches, or s_client has exited (then it is false). */
  async waitFor(pattern: RegExp, timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (pattern.test(this.output)) return true;
      if (this.child.exitCode !== null || this.child.signalCode !== null) return pattern.test(this.output);
      if (Date.now() > deadline) throw new Error(`s_client: not seen: ${pattern}\n${this.output}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  count(pattern: RegExp): number {
    return this.output.split('\n').filter((l) => pattern.test(l)).length;
  }
}
