// The bench's mail: message files written once under src/, hard-linked into two maildir trees
// that share every inode (so both servers read the same bytes from the same page cache), all
// owned by the user both servers run their sessions as:
//   r2d2/<user>/new/<base>                          r2d2's delivery naming (Z<hex size> in <base>)
//   dovecot/<user>/cur/<base>,S=<file>,W=<served>:2,   Dovecot's naming (sizes in the name, no reads)
import { chownSync, linkSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Message {
  readonly file: string;
  /** Octets on disk (LF line ends, or CRLF with `crlf`). */
  readonly physical: number;
  /** Octets as served: CRLF line ends (what LIST says, Dovecot's W=). */
  readonly served: number;
}

export interface MailSet {
  /** Every message file once (the trees' files are hard links to these). */
  readonly src: string;
  readonly r2d2Root: string;
  readonly dovecotRoot: string;
  /** The 50-message maildrop every numbered user has. */
  readonly standard: readonly Message[];
  readonly big: { readonly user: string; readonly count: number };
  readonly large: { readonly user: string; readonly message: Message };
}

/** Deterministic text: lines of printable ASCII that never start with "." (no dot-stuffing). */
function text(seed: number, octets: number, lineLength = 72): Buffer {
  const out = Buffer.allocUnsafe(octets);
  let x = seed >>> 0 || 1;
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ';
  let col = 0;
  for (let i = 0; i < octets; i++) {
    if (col === lineLength || i === octets - 1) {
      out[i] = 0x0a;
      col = 0;
      continue;
    }
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = alphabet.charCodeAt(col === 0 ? x % 52 : x % alphabet.length);
    col++;
  }
  return out;
}

function messageBytes(i: number, bodyOctets: number): Buffer {
  const head = Buffer.from(
    `Return-Path: <sender${i}@example.net>\nFrom: Sender ${i} <sender${i}@example.net>\nTo: user@example.com\n` +
      `Subject: bench message ${i}\nDate: Thu, 26 Nov 2026 10:00:00 +0000\nMessage-ID: <bench${i}@example.net>\n` +
      'MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n',
  );
  return Buffer.concat([head, text(i * 7919 + 1, bodyOctets)]);
}

/** Octets as served: a bare LF counts as CRLF (messageBytes ends every line with one). */
function servedSize(bytes: Buffer): number {
  let bareLf = 0;
  for (let i = bytes.indexOf(0x0a); i !== -1; i = bytes.indexOf(0x0a, i + 1)) if (i === 0 || bytes[i - 1] !== 0x0d) bareLf++;
  return bytes.length + bareLf;
}

/** The same message with CRLF line ends (messageBytes writes bare LFs only). */
function withCrlf(bytes: Buffer): Buffer {
  return Buffer.from(bytes.toString('latin1').replace(/\n/g, '\r\n'), 'latin1');
}

/** `<seconds>.M<micros>P<pid>Q<n>Z<HEX>.bench`: r2d2's delivery name, with a fixed host. */
function baseName(n: number, served: number): string {
  return `${1764000000 + n}.M${n % 1_000_000}P4242Q${n}Z${served.toString(16).toUpperCase()}.bench`;
}

export interface MailOptions {
  readonly root: string;
  readonly users: readonly string[];
  readonly bigUser: string;
  readonly bigCount: number;
  readonly largeUser: string;
  readonly largeOctets: number;
  /** Owner of both trees: both servers run their sessions as this uid/gid (Debian's `mail`). */
  readonly uid: number;
  readonly gid: number;
  /** Store every message with CRLF line ends (the size on disk is then the size as served). */
  readonly crlf?: boolean;
}

export function makeMail(o: MailOptions): MailSet {
  const src = join(o.root, 'src');
  const r2d2Root = join(o.root, 'r2d2');
  const dovecotRoot = join(o.root, 'dovecot-mail');
  mkdirSync(src, { recursive: true });

  const write = (n: number, lfBytes: Buffer): Message => {
    const bytes = o.crlf === true ? withCrlf(lfBytes) : lfBytes;
    const served = servedSize(bytes);
    const file = baseName(n, served);
    writeFileSync(join(src, file), bytes, { mode: 0o600 });
    chownSync(join(src, file), o.uid, o.gid);
    return { file, physical: bytes.length, served };
  };

  // 50 messages of 20..36 KiB (28 KiB on average: ~1.4 MB a maildrop).
  const standard = Array.from({ length: 50 }, (_, i) => write(i + 1, messageBytes(i + 1, 20 * 1024 + ((i * 16384) / 49) | 0)));
  // Small messages for the 50,000-message maildrop: 50 files, each linked under many names.
  const small = Array.from({ length: 50 }, (_, i) => write(100 + i, messageBytes(100 + i, 1500 + i * 20)));
  const large = write(999_999, messageBytes(999_999, o.largeOctets));

  const maildir = (tree: string, user: string): string => {
    const dir = join(tree, user);
    for (const sub of ['new', 'cur', 'tmp']) mkdirSync(join(dir, sub), { recursive: true, mode: 0o700 });
    for (const sub of ['', 'new', 'cur', 'tmp']) chownSync(join(dir, sub), o.uid, o.gid);
    return dir;
  };
  const link = (user: string, from: Message, base: string): void => {
    const source = join(src, from.file);
    linkSync(source, join(maildir(r2d2Root, user), 'new', base));
    linkSync(source, join(dovecotRoot, user, 'cur', `${base},S=${from.physical},W=${from.served}:2,`));
  };
  const fill = (user: string, messages: readonly Message[]): void => {
    maildir(r2d2Root, user);
    maildir(dovecotRoot, user);
    for (const m of messages) link(user, m, m.file);
  };

  mkdirSync(r2d2Root, { recursive: true });
  mkdirSync(dovecotRoot, { recursive: true });
  chownSync(dovecotRoot, o.uid, o.gid);
  chownSync(r2d2Root, o.uid, o.gid);
  for (const user of o.users) fill(user, standard);
  fill(o.largeUser, [large]);
  maildir(r2d2Root, o.bigUser);
  maildir(dovecotRoot, o.bigUser);
  for (let n = 0; n < o.bigCount; n++) {
    const m = small[n % small.length] as Message;
    link(o.bigUser, m, baseName(1_000_000 + n, m.served));
  }
  return { src, r2d2Root, dovecotRoot, standard, big: { user: o.bigUser, count: o.bigCount }, large: { user: o.largeUser, message: large } };
}
