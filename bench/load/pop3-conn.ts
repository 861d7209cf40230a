// A lean POP3 client connection for load generation: one command in flight, replies recognised
// by their status line and (for multi-line replies) the last five octets, never parsed further.
// It keeps no copy of a body: only its length and the last octets, so a 20 MB RETR costs little.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Target } from './protocol';

export interface Reply {
  readonly ok: boolean;
  /** The status line without CRLF. */
  readonly head: string;
  /** Octets after the status line up to and including the terminator ("" for single-line). */
  readonly bodyOctets: number;
}

interface Waiter {
  readonly multi: boolean;
  resolve(reply: Reply): void;
  reject(error: Error): void;
}

const TERMINATOR = '\r\n.\r\n';

export class BenchError extends Error {}

export class Pop3Conn {
  private socket: Socket | TLSSocket;
  private waiter: Waiter | undefined;
  private head = '';
  private headDone = false;
  private ok = false;
  private tail = '';
  private body = 0;
  private failure: Error | undefined;
  /** Every octet received, status lines included. */
  received = 0;
  /** The TLS protocol and cipher, once a handshake is done (`TLSv1.3 TLS_AES_256_GCM_SHA384`). */
  tls: string | undefined;
  private readonly onData = (chunk: Buffer): void => this.data(chunk);
  private readonly onError = (error: Error): void => this.fail(error);
  private readonly onClose = (): void => this.fail(new BenchError('connection closed by the server'));

  private constructor(socket: Socket | TLSSocket, timeoutMs: number) {
    this.socket = socket;
    this.attach(socket);
    socket.setTimeout(timeoutMs, () => socket.destroy(new BenchError(`no reply within ${timeoutMs} ms`)));
  }

  /** Connects (TLS handshake included for implicit TLS; STLS done here too) and reads the greeting. */
  static async open(target: Target, timeoutMs: number): Promise<Pop3Conn> {
    const socket =
      target.transport === 'implicit'
        ? tlsConnect({ host: target.host, port: target.port, rejectUnauthorized: false })
        : netConnect({ host: target.host, port: target.port });
    socket.setNoDelay(true);
    const conn = new Pop3Conn(socket, timeoutMs);
    const greeting = await conn.expect(false);
    if (!greeting.ok) throw new BenchError(`greeting: ${greeting.head}`);
    if (target.transport === 'stls') await conn.startTls();
    if ('getCipher' in conn.socket) conn.tls = `${conn.socket.getProtocol() ?? '?'} ${conn.socket.getCipher().name}`;
    return conn;
  }

  /** Sends a command and waits for its reply. `multi`: a multi-line reply when +OK. */
  command(line: string, multi = false): Promise<Reply> {
    const reply = this.expect(multi);
    this.socket.write(line + '\r\n');
    return reply;
  }

  /** Sends a command whose reply must be +OK. */
  async must(line: string, multi = false): Promise<Reply> {
    const reply = await this.command(line, multi);
    if (!reply.ok) throw new BenchError(`${line.split(' ')[0] ?? line}: ${reply.head}`);
    return reply;
  }

  close(): void {
    this.detach(this.socket);
    this.socket.on('error', () => undefined);
    this.socket.destroy();
  }

  /** QUIT, then wait for the server to close (so its side of the session has ended). */
  async quit(): Promise<void> {
    await this.must('QUIT');
    this.close();
  }

  private async startTls(): Promise<void> {
    await this.must('STLS');
    const plain = this.socket;
    this.detach(plain);
    const secure = tlsConnect({ socket: plain as Socket, rejectUnauthorized: false });
    this.socket = secure;
    this.attach(secure);
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
  }

  private attach(socket: Socket | TLSSocket): void {
    socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  private detach(socket: Socket | TLSSocket): void {
    socket.off('data', this.onData);
    socket.off('error', this.onError);
    socket.off('close', this.onClose);
  }

  private expect(multi: boolean): Promise<Reply> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.waiter !== undefined) return Promise.reject(new BenchError('bench bug: two commands in flight'));
    this.head = '';
    this.headDone = false;
    this.tail = '';
    this.body = 0;
    return new Promise((resolve, reject) => {
      this.waiter = { multi, resolve, reject };
    });
  }

  private data(chunk: Buffer): void {
    this.received += chunk.length;
    const waiter = this.waiter;
    if (waiter === undefined) {
      this.fail(new BenchError('unexpected data from the server'));
      return;
    }
    let rest = chunk;
    if (!this.headDone) {
      const lf = chunk.indexOf(0x0a);
      this.head += chunk.toString('latin1', 0, lf < 0 ? chunk.length : lf + 1);
      if (this.head.length > 4096) return this.fail(new BenchError('status line too long'));
      if (lf < 0) return;
      this.headDone = true;
      this.ok = this.head.startsWith('+OK');
      rest = chunk.subarray(lf + 1);
      if (!waiter.multi || !this.ok) {
        if (rest.length > 0) return this.fail(new BenchError('data after a single-line reply'));
        return this.settle(waiter);
      }
      // The terminator may follow the status line at once: "+OK\r\n.\r\n".
      this.tail = '\r\n';
    }
    this.body += rest.length;
    this.tail = rest.length >= 5 ? rest.toString('latin1', rest.length - 5) : (this.tail + rest.toString('latin1')).slice(-5);
    if (this.tail === TERMINATOR) this.settle(waiter);
  }

  private settle(waiter: Waiter): void {
    this.waiter = undefined;
    const head = this.head.endsWith('\r\n') ? this.head.slice(0, -2) : this.head.replace(/\n$/, '');
    waiter.resolve({ ok: this.ok, head, bodyOctets: this.body });
  }

  private fail(error: Error): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(error);
    this.socket.destroy();
  }
}
