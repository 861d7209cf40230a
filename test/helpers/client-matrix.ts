// Shared set-up for the real-client matrix (test/integration/client-matrix-*.test.ts): one
// server with a plain, an STLS and an implicit-TLS listener, a maildrop of awkward messages, and
// the comparison of what a client stored with what the maildrop holds.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { makeCertificates, type CertificateSet } from './certificates';
import { fixture, type Fixture } from './fixture';
import { asServed, rfc822Size } from './maildir';

export const USER = 'matrix@example.com';
export const PASSWORD = 'Pa55-w0rd!';

export type Mode = 'plain' | 'stls' | 'implicit';
export const MODES: readonly Mode[] = ['plain', 'stls', 'implicit'];

export interface MatrixServer extends Fixture {
  readonly certs: CertificateSet;
  readonly ports: Readonly<Record<Mode, number>>;
}

/** A server listening three ways: plain (tls = none), STLS (plaintext_auth never) and POP3S. */
export async function matrixServer(t: Test): Promise<MatrixServer> {
  const certs = makeCertificates();
  t.teardown(() => certs.remove());
  const files = `certificate = "${certs.cert}"  private_key = "${certs.key}"`;
  const listeners = `
listen "pop3" { address = "127.0.0.1"  port = 0  tls = none }
listen "stls" { address = "127.0.0.1"  port = 0  tls = stls  ${files} }
listen "pop3s" { address = "127.0.0.1"  port = 0  tls = implicit  ${files} }
`;
  const f = await fixture(t, { listeners, log: 'log { destination = stdout  level = info }' });
  const ports = { plain: f.server.portOf('pop3'), stls: f.server.portOf('stls'), implicit: f.server.portOf('pop3s') };
  return { ...f, certs, ports };
}

/** The awkward messages every client must store faithfully, by name. */
export const MESSAGES: ReadonlyArray<{ readonly name: string; readonly bytes: Buffer }> = [
  {
    name: 'dots',
    bytes: Buffer.from('Message-ID: <dots@matrix.test>\nSubject: dots\n\n.\n..two dots\n.one dot\n. dot space\nmiddle.\n.\n'),
  },
  { name: 'no final newline', bytes: Buffer.from('Message-ID: <nofinal@matrix.test>\nSubject: no final newline\n\nlast line has no end') },
  {
    name: 'mixed CRLF/LF',
    bytes: Buffer.from('Message-ID: <mixed@matrix.test>\r\nSubject: mixed line ends\n\r\nCRLF line\r\nLF line\nCRLF again\r\n\nafter an empty LF line\n'),
  },
  {
    name: '8-bit',
    bytes: Buffer.concat([
      Buffer.from('Message-ID: <8bit@matrix.test>\nSubject: 8-bit\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\n'),
      Buffer.from([0xe9, 0xe8, 0xe0, 0x20, 0xff, 0xfe, 0x80, 0x0a]),
      Buffer.from('caf\xc3\xa9 \xe2\x82\xac\n', 'latin1'),
    ]),
  },
  longLine(10240),
  { name: 'empty body', bytes: Buffer.from('Message-ID: <empty@matrix.test>\nSubject: empty body\n\n') },
  {
    name: 'From lines',
    bytes: Buffer.from('Message-ID: <from@matrix.test>\nSubject: From lines\n\nFrom the start of a line\n>From quoted already\nend\n'),
  },
];

/** A message with one body line of `octets` octets (10 KB in MESSAGES). */
export function longLine(octets: number): { readonly name: string; readonly bytes: Buffer } {
  const line = '0123456789'.repeat(Math.ceil(octets / 10)).slice(0, octets);
  return { name: `${octets}-octet line`, bytes: Buffer.from(`Message-ID: <long@matrix.test>\nSubject: long line\n\n${line}\nshort\n`) };
}

/** A big message of about `octets` octets (72-character lines with a counter, some dotted). */
export function bigMessage(octets: number): Buffer {
  const head = 'Message-ID: <big@matrix.test>\nSubject: big\n\n';
  const lines: string[] = [];
  let size = head.length;
  for (let n = 0; size < octets; n++) {
    const line = `${n % 97 === 0 ? '.' : ''}${String(n).padStart(9, '0')} ${'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(2).slice(0, 61)}\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(head + lines.join(''));
}

/**
 * Puts the messages into a new maildir for USER, numbered in the order given (one second apart
 * in their names: r2d2 lists oldest first), and returns its path.
 */
export async function populate(f: Fixture, messages: ReadonlyArray<{ readonly bytes: Buffer }> = MESSAGES, name = 'matrix'): Promise<string> {
  const md = f.mail.maildir(name);
  messages.forEach((m, i) => putNumbered(md, m.bytes, i));
  await f.db.addUser(USER, PASSWORD, md);
  return md;
}

/**
 * Writes message number i+1 of a maildrop under a Z-sized name that sorts in that place (its
 * own second: within one second r2d2 orders names as text, and `M<usec>` is not zero-padded).
 */
export function putNumbered(md: string, bytes: Buffer, i: number, sub: 'new' | 'cur' = 'new'): string {
  const name = `${1700000000 + i}.M${i}P1Q1Z${rfc822Size(bytes).toString(16).toUpperCase()}.matrix${sub === 'cur' ? ':2,S' : ''}`;
  writeFileSync(join(md, sub, name), bytes);
  return name;
}

/** Number of message files in a maildir's new/ and cur/. */
export function messageFiles(md: string): number {
  return readdirSync(join(md, 'new')).length + readdirSync(join(md, 'cur')).length;
}

/** Every file in new/ and cur/ of a maildir a client delivered into. */
export function storedInMaildir(md: string): Buffer[] {
  const out: Buffer[] = [];
  for (const sub of ['new', 'cur']) {
    for (const name of readdirSync(join(md, sub)).sort()) out.push(readFileSync(join(md, sub, name)));
  }
  return out;
}

/** Every file in a plain folder (an MDA script's output), in name order. */
export function storedInFolder(dir: string): Buffer[] {
  return readdirSync(dir)
    .sort()
    .map((name) => readFileSync(join(dir, name)));
}

/** An MDA for fetchmail/mpop: stores each message it reads on stdin in a new numbered file of `dir`. */
export function mdaScript(path: string, dir: string): string {
  writeFileSync(
    path,
    `#!/bin/sh\nset -e\nn=$(ls "${dir}" | wc -l)\ncat > "${dir}/$(printf %06d $((n + 1)))"\n`,
    { mode: 0o755 },
  );
  return path;
}

/** CRLF -> LF: what a Unix client stores for a message served with CRLF. */
export function toLf(bytes: Buffer): Buffer {
  return Buffer.from(bytes.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
}

/**
 * Headers a client may prepend on delivery: the trace fields (Received, Return-Path,
 * Delivered-To), mbox's Status/X-Status, and the client's own X- fields. Anything else in front
 * of the message, or any change inside it, fails the comparison.
 */
const ADDED_HEADER = /^(Received|Return-Path|Delivered-To|Status|X-Status|X-[A-Za-z0-9-]+):/i;

export interface Comparison {
  /** Expected message names that matched no stored message exactly. */
  readonly missing: string[];
  /** Stored messages that matched none (their first 200 octets). */
  readonly unexpected: string[];
  /** The header names clients prepended, each once. */
  readonly added: string[];
}

/**
 * Matches stored messages with the maildrop's, octet for octet after CRLF normalisation
 * (`lf`: the client stores LF line ends) and after removing whole header fields the client
 * prepended (which must all match ADDED_HEADER). Nothing else is normalised.
 */
export function compareStored(stored: readonly Buffer[], expected: ReadonlyArray<{ readonly name: string; readonly bytes: Buffer }>, lf: boolean): Comparison {
  const want = expected.map((m) => ({ name: m.name, bytes: lf ? toLf(asServed(m.bytes)) : asServed(m.bytes) }));
  const added = new Set<string>();
  const unexpected: string[] = [];
  const matched = new Set<string>();
  for (const raw of stored) {
    const got = lf ? toLf(raw) : raw;
    const hit = matchWithPrefix(got, want, added);
    if (hit === undefined) unexpected.push(got.subarray(0, 200).toString('latin1'));
    else matched.add(hit);
  }
  return { missing: want.filter((w) => !matched.has(w.name)).map((w) => w.name), unexpected, added: [...added].sort() };
}

function matchWithPrefix(got: Buffer, want: ReadonlyArray<{ name: string; bytes: Buffer }>, added: Set<string>): string | undefined {
  const names: string[] = [];
  let pos = 0;
  for (;;) {
    const rest = got.subarray(pos);
    const hit = want.find((w) => w.bytes.equals(rest));
    if (hit !== undefined) {
      names.forEach((n) => added.add(n));
      return hit.name;
    }
    // Skip one prepended header field (with its folded continuation lines), if it is one.
    const text = rest.subarray(0, 4096).toString('latin1');
    const m = ADDED_HEADER.exec(text);
    if (m === null) return undefined;
    const field = /^[^\n]*\n([ \t][^\n]*\n)*/.exec(text);
    if (field === null) return undefined;
    names.push((m[1] ?? '').toLowerCase());
    pos += Buffer.byteLength(field[0], 'latin1');
  }
}
