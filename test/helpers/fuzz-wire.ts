// The client side of the live-server fuzz (test/integration/fuzz-live.test.ts): writes raw
// bytes, predicts from them which command lines the server has received (every LF ends one),
// and reads exactly one reply per line, checking each is well-formed, each within a deadline.
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

/** How long one reply may take before the server counts as hung. Generous: CI is 2 cores. */
export const REPLY_DEADLINE_MS = 15_000;

/** RFC 2449 §4: a response line is at most 512 octets with its CRLF. */
const MAX_STATUS_OCTETS = 512;
/** A status line: indicator, then printable text (a login name echoed back may be UTF-8). */
const STATUS = /^(\+OK|-ERR)( [\x20-\x7e\x80-\xff]*)?$/;
const MULTI = new Set(['CAPA', 'RETR', 'TOP']);
const MULTI_WITHOUT_ARGUMENT = new Set(['LIST', 'UIDL']);

export class FuzzFailure extends Error {}

export type Outcome = 'open' | 'closed';

export class FuzzWire {
  private buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private closed = false;
  /** Bytes of a line the server has not seen the end of yet. */
  private partial = Buffer.alloc(0);
  /** Replies read so far, for the failure report. */
  readonly transcript: string[] = [];
  secure = false;
  private readonly onData = (chunk: Buffer): void => {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    this.wake();
  };
  private readonly onClose = (): void => {
    this.closed = true;
    this.wake();
  };

  private constructor(private socket: Socket) {
    this.attach(socket);
  }

  static async open(port: number): Promise<FuzzWire> {
    const socket = tcpConnect({ port, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const wire = new FuzzWire(socket);
    const greeting = await wire.status();
    if (greeting === undefined || !greeting.startsWith('+OK')) throw new FuzzFailure(`bad greeting ${JSON.stringify(greeting)}`);
    return wire;
  }

  private attach(socket: Socket): void {
    socket.on('data', this.onData).on('close', this.onClose).on('error', () => undefined);
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Half-closes: the server must answer what it has, then close. */
  end(): void {
    this.socket.end();
  }

  /**
   * Writes the step's bytes (each element one write) and reads the reply to every command
   * line they complete. 'closed' when the server ended the session as it should (QUIT, too
   * many bad commands); throws FuzzFailure on anything malformed, unexpected or late.
   */
  async step(writes: readonly Buffer[], ca: string): Promise<Outcome> {
    for (const w of writes) this.socket.write(w);
    const all = Buffer.concat([this.partial, ...writes]);
    const lines: Buffer[] = [];
    let start = 0;
    for (let lf = all.indexOf(0x0a); lf !== -1; lf = all.indexOf(0x0a, start)) {
      const end = lf > start && all[lf - 1] === 0x0d ? lf - 1 : lf;
      lines.push(all.subarray(start, end));
      start = lf + 1;
    }
    this.partial = Buffer.from(all.subarray(start));
    for (const line of lines) {
      const reply = await this.status();
      if (reply === undefined) throw new FuzzFailure(`connection closed instead of a reply to ${describe(line)}`);
      const text = line.toString('utf8');
      const [keyword = '', ...rest] = text.split(' ');
      const name = keyword.toUpperCase();
      const ok = reply.startsWith('+OK');
      if (reply === '-ERR too many bad commands, closing' || (ok && name === 'QUIT')) {
        await this.expectClose(reply);
        return 'closed';
      }
      if (ok && (MULTI.has(name) || (MULTI_WITHOUT_ARGUMENT.has(name) && rest.every((a) => a === '')))) await this.body(name, reply);
      if (ok && name === 'STLS') {
        // RFC 2595 §4: whatever followed STLS in plaintext is discarded; the handshake follows.
        if (this.buffer.length > 0) throw new FuzzFailure(`bytes after the STLS reply: ${JSON.stringify(this.buffer.toString('latin1').slice(0, 80))}`);
        this.partial = Buffer.alloc(0);
        await this.startTls(ca);
        return 'open';
      }
    }
    return 'open';
  }

  /** After the last step: nothing more may arrive once the server closes. */
  async expectClose(after: string): Promise<void> {
    await this.waitFor(() => this.closed, `the server to close after ${JSON.stringify(after)}`);
    if (this.buffer.length > 0) throw new FuzzFailure(`bytes after ${JSON.stringify(after)}: ${JSON.stringify(this.buffer.toString('latin1').slice(0, 80))}`);
  }

  /** One status line, checked; undefined if the connection closed first. */
  private async status(): Promise<string | undefined> {
    const line = await this.line();
    if (line === undefined) return undefined;
    const text = line.toString('latin1');
    this.transcript.push(text);
    if (line.length + 2 > MAX_STATUS_OCTETS) throw new FuzzFailure(`status line of ${line.length + 2} octets`);
    if (!STATUS.test(text)) throw new FuzzFailure(`malformed status line ${JSON.stringify(text)}`);
    return text;
  }

  /** A multi-line body: CRLF lines, dots stuffed, a terminator; RETR's size as announced. */
  private async body(name: string, head: string): Promise<void> {
    let octets = 0;
    for (let n = 0; ; n++) {
      const line = await this.line();
      if (line === undefined) throw new FuzzFailure(`closed inside the body of ${name}`);
      if (line.length === 1 && line[0] === 0x2e) break;
      if (line[0] === 0x2e && line[1] !== 0x2e) throw new FuzzFailure(`${name}: unstuffed dot line ${JSON.stringify(line.toString('latin1').slice(0, 40))}`);
      if (line.includes(0x0a)) throw new FuzzFailure(`${name}: bare LF in a line`);
      octets += line.length - (line[0] === 0x2e ? 1 : 0) + 2;
      const text = line.toString('latin1');
      const shape = name === 'LIST' ? /^\d+ \d+$/ : name === 'UIDL' ? /^\d+ [\x21-\x7e]{1,70}$/ : name === 'CAPA' ? /^[\x21-\x7e][\x20-\x7e]*$/ : undefined;
      if (shape !== undefined && !shape.test(text)) throw new FuzzFailure(`${name} line ${n + 1} malformed: ${JSON.stringify(text)}`);
    }
    const announced = name === 'RETR' ? /^\+OK (\d+) octets$/.exec(head) : null;
    if (announced !== null && Number(announced[1]) !== octets) throw new FuzzFailure(`RETR announced ${announced[1]} octets, sent ${octets}`);
  }

  /** `ca`: the test CA's PEM text. */
  private async startTls(ca: string): Promise<void> {
    const raw = this.socket;
    raw.off('data', this.onData).off('close', this.onClose);
    const secure: TLSSocket = tlsConnect({ socket: raw, ca, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new FuzzFailure('TLS handshake after STLS timed out')), REPLY_DEADLINE_MS);
      secure.once('secureConnect', () => {
        clearTimeout(timer);
        resolve();
      });
      secure.once('error', (e) => {
        clearTimeout(timer);
        reject(new FuzzFailure(`TLS handshake after STLS failed: ${e.message}`));
      });
    });
    this.socket = secure;
    this.secure = true;
    this.attach(secure);
  }

  private async line(): Promise<Buffer | undefined> {
    let found: Buffer | undefined;
    await this.waitFor(() => {
      const crlf = this.buffer.indexOf('\r\n');
      if (crlf !== -1) {
        found = this.buffer.subarray(0, crlf);
        this.buffer = this.buffer.subarray(crlf + 2);
        return true;
      }
      return this.closed;
    }, 'a reply line');
    return found;
  }

  private async waitFor(done: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + REPLY_DEADLINE_MS;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new FuzzFailure(`hung: no ${what} within ${REPLY_DEADLINE_MS} ms (last replies: ${JSON.stringify(this.transcript.slice(-3))})`);
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

function describe(line: Buffer): string {
  return JSON.stringify(line.subarray(0, 60).toString('latin1')) + (line.length > 60 ? `... (${line.length} octets)` : '');
}
