import type { ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';

/** A port free on 127.0.0.1 right now (the system picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Waits until a POP3 greeting ("+OK") comes from the port, or throws after `timeoutMs`. */
export async function waitForGreeting(port: number, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < end) {
    if (child !== undefined && child.exitCode !== null) throw new Error(`exited with code ${child.exitCode} before listening`);
    const line = await new Promise<string>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      let got = '';
      socket.setTimeout(2000, () => socket.destroy());
      socket.on('data', (d: Buffer) => {
        got += d.toString('latin1');
        if (got.includes('\n')) socket.end();
      });
      socket.on('error', (e) => {
        got = e.message;
      });
      socket.on('close', () => resolve(got));
    });
    if (line.startsWith('+OK')) return;
    last = line.trim();
    await sleep(100);
  }
  throw new Error(`no POP3 greeting on 127.0.0.1:${port} after ${timeoutMs} ms (${last})`);
}

/**
 * `count` different ports free on 127.0.0.1 right now: all are held open until every one is
 * chosen (one freePort() after another may be handed the same port twice, since each is
 * closed before the next is asked for: r2d2 and Dovecot once got the same one).
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: 0 }, () => resolve(server));
    })),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  });
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
export async function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
