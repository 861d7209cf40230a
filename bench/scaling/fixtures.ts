// What the scaling bench serves: an SQLite accounts db (no MySQL needed, so it runs on any
// machine, the 16-core device included), maildrops of hard-linked messages, a certificate.
import { createHash } from 'node:crypto';
import { linkSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { uniqueName } from '../../src/deliver/unique-name';
import { Rfc822SizeCounter } from '../../src/maildrop/rfc822-size';

export const PASSWORD = 'bench-pw';

export interface Fixtures {
  readonly accounts: string;
  readonly mailRoot: string;
  /** Users whose maildrops hold the messages (one per client at a time). */
  readonly busyUsers: readonly string[];
  /** Users with empty maildrops, for idle sessions. */
  readonly idleUsers: readonly string[];
  /** Each message's size as served. */
  readonly sizes: readonly number[];
}

/** Printable lines that never start with "." (no dot-stuffing: octets received = LIST size). */
function body(seed: number, octets: number): Buffer {
  const line = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 bench text '.repeat(1).slice(0, 71);
  const lines: string[] = [`Subject: scaling ${seed}`, `Message-ID: <s${seed}@bench>`, ''];
  while (lines.join('\n').length < octets) lines.push(line);
  return Buffer.from(lines.join('\n') + '\n');
}

export function makeFixtures(root: string, o: { busyUsers: number; idleUsers: number; messages: number; messageOctets: number }): Fixtures {
  const mailRoot = join(root, 'mail');
  const src = join(root, 'src');
  mkdirSync(src, { recursive: true });
  const sizes: number[] = [];
  const sources: { file: string; name: string }[] = [];
  for (let i = 0; i < o.messages; i++) {
    const bytes = body(i, o.messageOctets);
    const counter = new Rfc822SizeCounter();
    counter.push(bytes);
    sizes.push(counter.size);
    const name = uniqueName(counter.size);
    writeFileSync(join(src, name), bytes);
    sources.push({ file: join(src, name), name });
  }
  const maildir = (user: string, withMail: boolean): string => {
    const dir = join(mailRoot, user);
    for (const sub of ['tmp', 'new', 'cur']) mkdirSync(join(dir, sub), { recursive: true });
    if (withMail) for (const s of sources) linkSync(s.file, join(dir, 'cur', `${s.name}:2,S`));
    return dir;
  };
  const accounts = join(root, 'accounts.sqlite');
  const db = new Database(accounts);
  db.exec('CREATE TABLE accounts (login TEXT PRIMARY KEY, password TEXT NOT NULL, maildir TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO accounts VALUES (?, ?, ?)');
  const hash = createHash('sha256').update(PASSWORD).digest('hex');
  const busyUsers = Array.from({ length: o.busyUsers }, (_, i) => `busy${i}`);
  const idleUsers = Array.from({ length: o.idleUsers }, (_, i) => `idle${i}`);
  db.transaction(() => {
    for (const u of busyUsers) insert.run(u, hash, maildir(u, true));
    for (const u of idleUsers) insert.run(u, hash, maildir(u, false));
  })();
  db.close();
  return { accounts, mailRoot, busyUsers, idleUsers, sizes };
}

export function personality(o: { threads: number; port: number; tlsPort: number; cert: string; key: string; accounts: string; mailRoot: string }): string {
  return `identity = server.pop3.r2d2-scaling
threads = ${o.threads}
executes_as_root = yes
maildir_root = "${o.mailRoot}"
maildrop_query_format_string = "SELECT maildir FROM accounts WHERE login = %u AND password = SHA2(%p, 256)"
listen "pop3" { address = 127.0.0.1  port = ${o.port} }
listen "pop3s" { address = 127.0.0.1  port = ${o.tlsPort}  tls = implicit  certificate = "${o.cert}"  private_key = "${o.key}" }
database "accounts" { driver = sqlite  file = "${o.accounts}" }
limits { max_connections = 50000  max_connections_per_address = 50000  auth_failure_delay_ms = 0 }
log { destination = stdout  level = warn }
`;
}
