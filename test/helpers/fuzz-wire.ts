// The client side of the live-server fuzz (test/integration/fuzz-live.test.ts): writes raw
// bytes, predicts from them which command lines the server has received (every LF ends one),
// and reads exactly one reply per line, checking each is well-formed, each within a deadline.
import { LineSocket } from './line-socket';

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
  /** Bytes of a line the server has not seen the end of yet. */
  private partial = Buffer.alloc(0);
  /** Replies read so far, for the failure report. */
  readonly transcript: string[] = [];
  secure = false;
  /** The last reply was "+ ": the next line is a SASL response, and its reply may be "+ " again (LOGIN, RFC 7628's error challenge). */
  private inSasl = false;

  private constructor(private readonly wire: LineSocket) {}

  static async open(port: number): Promise<FuzzWire> {
    const wire = new FuzzWire(await LineSocket.connect(port));
    const greeting = await wire.status();
    if (greeting === undefined || !greeting.startsWith('+OK')) throw new FuzzFailure(`bad greeting ${JSON.stringify(greeting)}`);
    return wire;
  }

  destroy(): void {
    this.wire.destroy();
  }

  /** Half-closes: the server must answer what it has, then close. */
  end(): void {
    this.wire.end();
  }

  /**
   * Writes the step's bytes (each element one write) and reads the reply to every command
   * line they complete. 'closed' when the server ended the session as it should (QUIT, too
   * many bad commands); throws FuzzFailure on anything malformed, unexpected or late.
   */
  async step(writes: readonly Buffer[], ca: string): Promise<Outcome> {
    for (const w of writes) this.wire.send(w);
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
      const reply = await this.status(this.inSasl || /^auth( |$)/i.test(line.toString('latin1')));
      if (reply === undefined) throw new FuzzFailure(`connection closed instead of a reply to ${describe(line)}`);
      const wasSasl = this.inSasl;
      this.inSasl = reply.startsWith('+ ');
      const text = line.toString('utf8');
      const [keyword = '', ...rest] = text.split(' ');
      const name = keyword.toUpperCase();
      const ok = reply.startsWith('+OK');
      if (reply === '-ERR too many bad commands, closing' || (ok && name === 'QUIT' && !wasSasl)) {
        await this.expectClose(reply);
        return 'closed';
      }
      if (wasSasl || this.inSasl) continue; // the line was a SASL response, or AUTH asked for one: no body follows
      if (ok && (MULTI.has(name) || (MULTI_WITHOUT_ARGUMENT.has(name) && rest.every((a) => a === '')))) await this.body(name, reply);
      if (ok && name === 'STLS') {
        // RFC 2595 §4: whatever followed STLS in plaintext is discarded; the handshake follows.
        if (this.wire.pending.length > 0) throw new FuzzFailure(`bytes after the STLS reply: ${JSON.stringify(this.wire.pending.toString('latin1').slice(0, 80))}`);
        this.partial = Buffer.alloc(0);
        await this.hang(() => this.wire.startTls(ca, REPLY_DEADLINE_MS));
        this.secure = true;
        return 'open';
      }
    }
    return 'open';
  }

  /** After the last step: nothing more may arrive once the server closes. */
  async expectClose(after: string): Promise<void> {
    await this.hang(() => this.wire.waitClosed(REPLY_DEADLINE_MS, `the server to close after ${JSON.stringify(after)}`));
    const rest = this.wire.pending;
    if (rest.length > 0) throw new FuzzFailure(`bytes after ${JSON.stringify(after)}: ${JSON.stringify(rest.toString('latin1').slice(0, 80))}`);
  }

  /**
   * One status line, checked; undefined if the connection closed first. `continuation`: AUTH, and
   * a SASL response, may also be answered "+ " and base64 (RFC 5034 §4; LOGIN's prompts, RFC 7628's error challenge).
   */
  private async status(continuation = false): Promise<string | undefined> {
    const line = await this.line();
    if (line === undefined) return undefined;
    const text = line.toString('latin1');
    this.transcript.push(text);
    if (line.length + 2 > MAX_STATUS_OCTETS) throw new FuzzFailure(`status line of ${line.length + 2} octets`);
    if (!STATUS.test(text) && !(continuation && /^\+ [A-Za-z0-9+/=]*$/.test(text))) throw new FuzzFailure(`malformed status line ${JSON.stringify(text)}`);
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

  private line(): Promise<Buffer | undefined> {
    return this.hang(() => this.wire.readLine(REPLY_DEADLINE_MS));
  }

  /** A read or handshake that fails (hangs, breaks) is the server's failure, with the last replies. */
  private async hang<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      throw new FuzzFailure(`${(error as Error).message} (last replies: ${JSON.stringify(this.transcript.slice(-3))})`);
    }
  }
}

function describe(line: Buffer): string {
  return JSON.stringify(line.subarray(0, 60).toString('latin1')) + (line.length > 60 ? `... (${line.length} octets)` : '');
}
