// The ceiling server (bench/ceiling/server.ts) as a child process of the bench, serving the same
// mail set from memory: the standard maildrop to every numbered user, the 20 MB message to its user.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CeilingConfig, DropFiles } from '../ceiling/server';
import type { MailSet, Message } from './maildirs';
import type { Certificate } from './tls';
import { stopProcess, waitForGreeting } from './util';

export interface CeilingOptions {
  readonly dir: string;
  readonly port: number;
  /** Implicit TLS on this port too, when given. */
  readonly tlsPort: number | undefined;
  readonly tls: Certificate;
  /** Worker processes: one per core, as r2d2 runs one thread per core. */
  readonly workers: number;
  readonly mail: MailSet;
  /** A plain port where each RETR reads its file as well (bench/ceiling/server.ts), when given. */
  readonly filesPort: number | undefined;
}

/** Resolves when the server says "ready" (every worker listening), or rejects after `timeoutMs`. */
function ready(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let said = '';
    const timer = setTimeout(() => reject(new Error(`not ready after ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code) => reject(new Error(`exited with code ${code}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      said += chunk.toString('latin1');
      if (!said.includes('ready\n')) return;
      clearTimeout(timer);
      resolve();
    });
  });
}

export class CeilingInstance {
  private constructor(readonly child: ChildProcess) {}

  get pid(): number {
    return this.child.pid ?? 0;
  }

  static async start(o: CeilingOptions): Promise<CeilingInstance> {
    mkdirSync(o.dir, { recursive: true });
    const drop = (messages: readonly Message[]): DropFiles => ({ files: messages.map((m) => join(o.mail.src, m.file)), uids: messages.map((m) => m.file) });
    const config: CeilingConfig = {
      port: o.port,
      ...(o.tlsPort === undefined ? {} : { tls: { port: o.tlsPort, cert: o.tls.cert, key: o.tls.key } }),
      workers: o.workers,
      drops: { [o.mail.large.user]: drop([o.mail.large.message]) },
      standard: drop(o.mail.standard),
      ...(o.filesPort === undefined ? {} : { filesPort: o.filesPort }),
    };
    const configFile = join(o.dir, 'ceiling.json');
    writeFileSync(configFile, JSON.stringify(config));
    const log = join(o.dir, 'ceiling.log');
    const err = openSync(log, 'a');
    const child = spawn(process.execPath, [join(__dirname, '..', 'ceiling', 'server.js'), configFile], { stdio: ['ignore', 'pipe', err] });
    closeSync(err);
    const instance = new CeilingInstance(child);
    try {
      await ready(child, 20_000);
      await waitForGreeting(o.port, 5000, child);
    } catch (error) {
      await instance.stop();
      throw new Error(`the ceiling server did not start (see ${log}): ${(error as Error).message}`);
    }
    return instance;
  }

  async stop(): Promise<void> {
    await stopProcess(this.child, 5000);
  }
}
