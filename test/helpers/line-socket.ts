import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

/** A read that did not complete in time: the server hung. */
export class ReadTimeout extends Error {}

/**
 * The client side of a line protocol over a real socket: bytes in, CRLF lines out, with a
 * deadline per read, and the STLS upgrade of the same connection. The POP3 test client, the
 * fuzzer's wire and the soak's client all read through it.
 */
export class LineSocket {
  private buffer: Buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  closed = false;
  private readonly onData = (chunk: Buffer): void => {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    this.wake();
  };
  private readonly onClose = (): void => {
    this.closed = true;
    this.wake();
  };

  constructor(public socket: Socket) {
    this.attach(socket);
  }

  /**
   * Connects, in plain or implicit TLS (`ca`: the test CA, PEM), to loopback unless `host` says
   * otherwise (the lab), from `localAddress` if given (e.g. 127.0.0.2).
   */
  static async connect(port: number, tls?: { ca: string | Buffer }, localAddress?: string, host = '127.0.0.1'): Promise<LineSocket> {
    const from = localAddress === undefined ? {} : { localAddress };
    const socket: Socket = tls === undefined ? tcpConnect({ port, host, ...from }) : tlsConnect({ port, host, ca: tls.ca, servername: 'localhost', ...from });
    await new Promise<void>((resolve, reject) => {
      socket.once(tls === undefined ? 'connect' : 'secureConnect', () => resolve());
      socket.once('error', reject);
    });
    return new LineSocket(socket);
  }

  /** Bytes received and not read yet. */
  get pending(): Buffer {
    return this.buffer;
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** The next line without its CRLF; undefined once the server has closed and no line is left. */
  async readLine(timeoutMs = 30_000, what = 'a reply line'): Promise<Buffer | undefined> {
    let found: Buffer | undefined;
    await this.waitFor(() => {
      const crlf = this.buffer.indexOf('\r\n');
      if (crlf !== -1) {
        found = this.buffer.subarray(0, crlf);
        this.buffer = this.buffer.subarray(crlf + 2);
        return true;
      }
      return this.closed;
    }, timeoutMs, what);
    return found;
  }

  async waitClosed(timeoutMs = 30_000, what = 'the server to close'): Promise<void> {
    await this.waitFor(() => this.closed, timeoutMs, what);
  }

  /** Everything left unread, once the server has closed. */
  async readToClose(timeoutMs?: number): Promise<Buffer> {
    await this.waitClosed(timeoutMs);
    const rest = this.buffer;
    this.buffer = Buffer.alloc(0);
    return rest;
  }

  /** The client side of STLS: the handshake on the same connection. */
  async startTls(ca: string | Buffer, timeoutMs = 30_000): Promise<void> {
    const raw = this.socket;
    raw.off('data', this.onData).off('close', this.onClose);
    const secure: TLSSocket = tlsConnect({ socket: raw, ca, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new ReadTimeout('TLS handshake after STLS timed out')), timeoutMs);
      secure.once('secureConnect', () => {
        clearTimeout(timer);
        resolve();
      });
      secure.once('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`TLS handshake after STLS failed: ${e.message}`));
      });
    });
    this.socket = secure;
    this.attach(secure);
  }

  end(data?: string | Buffer): void {
    if (data === undefined) this.socket.end();
    else this.socket.end(data);
  }

  destroy(): void {
    this.socket.destroy();
  }

  private attach(socket: Socket): void {
    socket.on('data', this.onData).on('close', this.onClose).on('error', () => undefined);
  }

  private async waitFor(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new ReadTimeout(`hung: no ${what} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
