// The LMTP load: `connections` clients, each one connection doing transactions back to back
// (MAIL, RCPT, DATA pipelined as Postfix sends them, one recipient each, users in turn) until
// the deadline. Counts deliveries answered 250 and anything else as an error.
import { connect, type Socket } from 'node:net';

export interface LmtpLoad {
  readonly port: number;
  readonly connections: number;
  readonly recipients: readonly string[];
  /** The message as it goes on the wire: CRLF, dot-stuffed, ending in CRLF.CRLF. */
  readonly wire: Buffer;
  readonly durationMs: number;
}

export interface LmtpLoadResult {
  readonly deliveries: number;
  readonly errors: number;
  readonly errorSamples: readonly string[];
  readonly wallMs: number;
}

/** Reads SMTP replies (multi-line aware) from a socket. */
class Replies {
  private buffer = '';
  private waiting: Array<(line: string) => void> = [];
  private lines: string[] = [];
  constructor(socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buffer += d.toString('latin1');
      for (let i = this.buffer.indexOf('\r\n'); i !== -1; i = this.buffer.indexOf('\r\n')) {
        const line = this.buffer.slice(0, i);
        this.buffer = this.buffer.slice(i + 2);
        if (line[3] === '-') continue;
        const w = this.waiting.shift();
        if (w === undefined) this.lines.push(line);
        else w(line);
      }
    });
    socket.on('close', () => {
      for (const w of this.waiting.splice(0)) w('000 connection closed');
    });
  }
  next(): Promise<string> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}

export async function runLmtpLoad(load: LmtpLoad): Promise<LmtpLoadResult> {
  const deadline = Date.now() + load.durationMs;
  let deliveries = 0;
  let errors = 0;
  const samples: string[] = [];
  let turn = 0;
  const fail = (what: string): void => {
    errors++;
    if (samples.length < 5) samples.push(what);
  };
  const started = performance.now();
  const client = async (): Promise<void> => {
    const socket = connect({ port: load.port, host: '127.0.0.1' });
    socket.setNoDelay(true);
    const replies = new Replies(socket);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    await replies.next(); // greeting
    socket.write('LHLO bench.example\r\n');
    await replies.next();
    while (Date.now() < deadline) {
      const rcpt = load.recipients[turn++ % load.recipients.length];
      socket.write(`MAIL FROM:<bench@sender.example>\r\nRCPT TO:<${rcpt}>\r\nDATA\r\n`);
      const answers = [await replies.next(), await replies.next(), await replies.next()];
      if (!answers[2]?.startsWith('354')) {
        fail(answers.join(' | '));
        socket.write('RSET\r\n');
        await replies.next();
        continue;
      }
      socket.write(load.wire);
      const result = await replies.next();
      if (result.startsWith('250')) deliveries++;
      else fail(result);
    }
    socket.end('QUIT\r\n');
  };
  await Promise.all(Array.from({ length: load.connections }, () => client()));
  return { deliveries, errors, errorSamples: samples, wallMs: performance.now() - started };
}
