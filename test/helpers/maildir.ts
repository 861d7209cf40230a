import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uniqueName } from '../../src/deliver/unique-name';
import { Rfc822SizeCounter } from '../../src/maildrop/rfc822-size';

/** A temporary folder holding maildirs; remove() deletes it all. */
export class MailRoot {
  readonly path: string;
  constructor() {
    this.path = mkdtempSync(join(tmpdir(), 'r2d2-test-'));
  }

  /** Creates an empty maildir (tmp/ new/ cur/) and returns its path. */
  maildir(name: string): string {
    const dir = join(this.path, name);
    for (const sub of ['tmp', 'new', 'cur']) mkdirSync(join(dir, sub), { recursive: true });
    return dir;
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

export function rfc822Size(content: Buffer): number {
  const counter = new Rfc822SizeCounter();
  counter.push(content);
  return counter.size;
}

/** Writes a message as `r2d2 deliver` names it (Z size in the name) and returns the file name. */
export function putMessage(maildir: string, content: string | Buffer, sub: 'new' | 'cur' = 'new', flags = ''): string {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  const name = uniqueName(rfc822Size(bytes)) + (sub === 'cur' ? `:2,${flags}` : '');
  writeFileSync(join(maildir, sub, name), bytes);
  return name;
}

/** What a client should receive for a file: LF -> CRLF, CRLF kept, a final CRLF added if missing. */
export function asServed(content: string | Buffer): Buffer {
  const text = (typeof content === 'string' ? Buffer.from(content) : content).toString('latin1');
  const crlf = text.replace(/\r?\n/g, '\r\n');
  return Buffer.from(crlf.length > 0 && !crlf.endsWith('\n') ? crlf + '\r\n' : crlf, 'latin1');
}

export function sampleMessage(i: number, bodyLines = 3): string {
  const body = Array.from({ length: bodyLines }, (_, n) => `line ${n + 1} of message ${i}`).join('\n');
  return `From: sender${i}@example.com\nTo: user@example.com\nSubject: message ${i}\nMessage-ID: <m${i}@example.com>\n\n${body}\n`;
}
