import { connect, type Socket } from 'node:net';

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
  private buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static async open(port: number, host = '127.0.0.1'): Promise<Pop3Client> {
    const socket = connect({ port, host });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new Pop3Client(socket);
  }

  /** Connects and reads the greeting. */
  static async greeted(port: number): Promise<{ client: Pop3Client; greeting: Response }> {
    const client = await Pop3Client.open(port);
    return { client, greeting: await client.readStatus() };
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
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
    for (;;) {
      const crlf = this.buffer.indexOf('\r\n');
      if (crlf !== -1) {
        const line = this.buffer.subarray(0, crlf).toString('latin1');
        this.buffer = this.buffer.subarray(crlf + 2);
        return line;
      }
      if (this.closed) throw new Error(`connection closed (pending: ${JSON.stringify(this.buffer.toString('latin1'))})`);
      await this.waitForData();
    }
  }

  /** Reads a dot-stuffed body up to ".CRLF" and returns it un-stuffed. */
  async readUntilTerminator(): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (;;) {
      const crlf = this.buffer.indexOf('\r\n');
      if (crlf === -1) {
        if (this.closed) throw new Error('connection closed inside a multi-line reply');
        await this.waitForData();
        continue;
      }
      const line = this.buffer.subarray(0, crlf);
      this.buffer = this.buffer.subarray(crlf + 2);
      if (line.length === 1 && line[0] === 0x2e) return Buffer.concat(parts);
      parts.push(line[0] === 0x2e ? line.subarray(1) : line, Buffer.from('\r\n'));
    }
  }

  /** Resolves when the server has closed the connection. */
  async waitClosed(): Promise<void> {
    while (!this.closed) await this.waitForData();
  }

  /** Everything the server sent until it closed. */
  async readToClose(): Promise<string> {
    await this.waitClosed();
    const rest = this.buffer.toString('latin1');
    this.buffer = Buffer.alloc(0);
    return rest;
  }

  async login(user: string, password: string): Promise<Response> {
    const u = await this.cmd(`USER ${user}`);
    if (!u.ok) return u;
    return this.cmd(`PASS ${password}`);
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private waitForData(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
