import type { Socket } from 'node:net';
import { LineSocket } from './line-socket';

export interface Response {
  readonly ok: boolean;
  /** The status line without +OK/-ERR and CRLF. */
  readonly text: string;
  /** A multi-line reply's lines, un-stuffed; undefined for a single-line reply. */
  readonly lines?: string[];
  /** A multi-line reply's body exactly as received, un-stuffed, with CRLFs, before the terminator. */
  readonly body?: Buffer;
}

const MULTI = new Set(['CAPA', 'LIST', 'UIDL', 'RETR', 'TOP']);

/**
 * A small scripted POP3 client for protocol tests: real socket, raw bytes in and out.
 * `cmd('STAT')` sends a line and reads its reply (multi-line when the command has one and
 * it succeeded).
 */
export class Pop3Client {
  private constructor(private readonly wire: LineSocket) {}

  /** A client over a connection made elsewhere (a PROXY header sent first, another local address). */
  static over(wire: LineSocket): Pop3Client {
    return new Pop3Client(wire);
  }

  static async open(port: number, localAddress?: string, host?: string): Promise<Pop3Client> {
    return new Pop3Client(await LineSocket.connect(port, undefined, localAddress, host));
  }

  /** Connects (from `localAddress`, to `host` if given) and reads the greeting. */
  static async greeted(port: number, localAddress?: string, host?: string): Promise<{ client: Pop3Client; greeting: Response }> {
    const client = await Pop3Client.open(port, localAddress, host);
    return { client, greeting: await client.readStatus() };
  }

  get socket(): Socket {
    return this.wire.socket;
  }

  get closed(): boolean {
    return this.wire.closed;
  }

  send(data: string | Buffer): void {
    this.wire.send(data);
  }

  async cmd(line: string, multiLine?: boolean): Promise<Response> {
    this.send(line + '\r\n');
    const keyword = (line.split(' ')[0] ?? '').toUpperCase();
    const wantsMulti = multiLine ?? (MULTI.has(keyword) && !(keyword === 'LIST' || keyword === 'UIDL' ? line.trim().includes(' ') : false));
    return this.readReply(wantsMulti);
  }

  async readReply(multiLine: boolean): Promise<Response> {
    const status = await this.readStatus();
    if (!multiLine || !status.ok) return status;
    const body = await this.readUntilTerminator();
    const text = body.toString('latin1');
    const lines = text.length === 0 ? [] : text.slice(0, -2).split('\r\n');
    return { ...status, lines, body };
  }

  async readStatus(): Promise<Response> {
    const line = await this.readLine();
    if (line.startsWith('+OK')) return { ok: true, text: line.slice(4) };
    if (line.startsWith('-ERR')) return { ok: false, text: line.slice(5) };
    throw new Error(`not a status line: ${JSON.stringify(line)}`);
  }

  async readLine(): Promise<string> {
    const line = await this.wire.readLine();
    if (line === undefined) throw new Error(`connection closed (pending: ${JSON.stringify(this.wire.pending.toString('latin1'))})`);
    return line.toString('latin1');
  }

  /** Reads a dot-stuffed body up to ".CRLF" and returns it un-stuffed. */
  async readUntilTerminator(): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (;;) {
      const line = await this.wire.readLine();
      if (line === undefined) throw new Error('connection closed inside a multi-line reply');
      if (line.length === 1 && line[0] === 0x2e) return Buffer.concat(parts);
      parts.push(line[0] === 0x2e ? line.subarray(1) : line, Buffer.from('\r\n'));
    }
  }

  /** Resolves when the server has closed the connection. */
  waitClosed(): Promise<void> {
    return this.wire.waitClosed();
  }

  /** Everything the server sent until it closed. */
  async readToClose(): Promise<string> {
    return (await this.wire.readToClose()).toString('latin1');
  }

  async login(user: string, password: string): Promise<Response> {
    const u = await this.cmd(`USER ${user}`);
    if (!u.ok) return u;
    return this.cmd(`PASS ${password}`);
  }

  end(): void {
    this.wire.end();
  }

  destroy(): void {
    this.wire.destroy();
  }
}
