// A scripted LMTP client (RFC 2033) over TCP or a unix socket: commands one at a time or
// pipelined, and one reply per accepted recipient after the final dot.
import { connect } from 'node:net';
import { LineSocket } from './line-socket';

export interface Reply {
  readonly code: number;
  /** Each line's text after `NNN-`/`NNN `. */
  readonly lines: readonly string[];
  /** The last line's text (with its enhanced status code). */
  readonly text: string;
}

export interface TransactionReplies {
  readonly mail: Reply;
  readonly rcpt: readonly Reply[];
  readonly data: Reply;
  /** One per RCPT answered 250, in order (RFC 2033 §4.2); empty when DATA was refused. */
  readonly results: readonly Reply[];
}

/** The message as it goes on the wire: CRLF line ends, leading dots doubled, then `.` CRLF. */
export function dataOnWire(message: string | Buffer): Buffer {
  const input = typeof message === 'string' ? Buffer.from(message) : message;
  if (isWireReady(input)) return Buffer.concat([input, Buffer.from(input.length === 0 || input.subarray(-2).equals(Buffer.from('\r\n')) ? '.\r\n' : '\r\n.\r\n')]);
  const pieces: Buffer[] = [];
  const CRLF = Buffer.from('\r\n');
  const DOT = Buffer.from('.');
  for (let start = 0; start < input.length; ) {
    const lf = input.indexOf(0x0a, start);
    const end = lf === -1 ? input.length : lf;
    const line = input.subarray(start, end > start && input[end - 1] === 0x0d ? end - 1 : end);
    if (line[0] === 0x2e) pieces.push(DOT);
    pieces.push(line, CRLF);
    start = end + 1;
  }
  pieces.push(Buffer.from('.\r\n'));
  return Buffer.concat(pieces);
}

/** CRLF everywhere and no line starting with a dot: only the terminator is missing (big messages). */
function isWireReady(input: Buffer): boolean {
  if (input[0] === 0x2e || input.indexOf('\n.') !== -1) return false;
  for (let lf = input.indexOf(0x0a); lf !== -1; lf = input.indexOf(0x0a, lf + 1)) if (input[lf - 1] !== 0x0d) return false;
  return true;
}

export class LmtpClient {
  private constructor(readonly wire: LineSocket) {}

  /** Connects to a port on 127.0.0.1 or a socket path and reads the 220 greeting. */
  static async connect(where: number | string): Promise<{ client: LmtpClient; greeting: Reply }> {
    const socket = typeof where === 'number' ? connect({ port: where, host: '127.0.0.1' }) : connect({ path: where });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    const client = new LmtpClient(new LineSocket(socket));
    return { client, greeting: await client.reply() };
  }

  async reply(timeoutMs = 60_000): Promise<Reply> {
    const lines: string[] = [];
    for (;;) {
      const line = (await this.wire.readLine(timeoutMs))?.toString('latin1');
      if (line === undefined) throw new Error(`connection closed after ${JSON.stringify(lines)}`);
      lines.push(line.slice(4));
      if (line[3] !== '-') return { code: Number(line.slice(0, 3)), lines, text: line.slice(4) };
    }
  }

  async cmd(line: string): Promise<Reply> {
    this.wire.send(`${line}\r\n`);
    return this.reply();
  }

  /** LHLO; answers the extensions (`PIPELINING`, `SIZE 1000` ...). */
  async lhlo(name = 'client.test'): Promise<string[]> {
    const r = await this.cmd(`LHLO ${name}`);
    if (r.code !== 250) throw new Error(`LHLO: ${r.code} ${r.text}`);
    return r.lines.slice(1);
  }

  /**
   * One transaction. `pipelined`: MAIL, every RCPT and DATA leave in one write (RFC 2920), the
   * message right after the 354.
   */
  async send(from: string, to: readonly string[], message: string | Buffer, pipelined = false): Promise<TransactionReplies> {
    const commands = [`MAIL FROM:<${from}>`, ...to.map((r) => `RCPT TO:<${r}>`), 'DATA'];
    if (pipelined) this.wire.send(commands.map((c) => `${c}\r\n`).join(''));
    const next = (command: string): Promise<Reply> => (pipelined ? this.reply() : this.cmd(command));
    const mail = await next(commands[0] as string);
    const rcpt: Reply[] = [];
    for (const r of to) rcpt.push(await next(`RCPT TO:<${r}>`));
    const data = await next('DATA');
    if (data.code !== 354) return { mail, rcpt, data, results: [] };
    this.wire.send(dataOnWire(message));
    const results: Reply[] = [];
    for (const r of rcpt) if (r.code === 250) results.push(await this.reply());
    return { mail, rcpt, data, results };
  }

  async quit(): Promise<void> {
    await this.cmd('QUIT').catch(() => undefined);
    this.wire.destroy();
  }

  destroy(): void {
    this.wire.destroy();
  }
}
