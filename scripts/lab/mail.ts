// The lab's accounts and mail: the schema on the Galera cluster (the example personality's
// mailbox table, the lease table and a lease-only user from personality/maildrop-lock.sql),
// maildrops for the load generator's readers (never changed) and for the deleting clients
// (delivered to all along, through r2d2's own delivery code), and what is left at the end.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Connection } from 'mysql2/promise';
import { deliverMessage } from '../../src/deliver/deliver';

const PERSONALITY = resolve(__dirname, '../../../personality');

export interface LabUsers {
  readonly readers: readonly string[];
  readonly deleters: readonly string[];
  readonly password: string;
  readonly accountsPassword: string;
  readonly lockPassword: string;
}

/** The schema, the two database users and one mailbox row per lab user. */
export async function createSchema(db: Connection, users: LabUsers, mailRoot: string, subnet: string): Promise<void> {
  const ddl = (file: string): string => {
    const text = readFileSync(join(PERSONALITY, file), 'utf8').replace(/--.*$/gm, '');
    const start = text.indexOf('CREATE TABLE');
    if (start === -1) throw new Error(`no CREATE TABLE in personality/${file}`);
    const end = text.indexOf(';', start);
    return text.slice(start, end === -1 ? undefined : end);
  };
  await db.query('CREATE DATABASE lab');
  await db.query('USE lab');
  await db.query(ddl('mailbox.sql'));
  await db.query(ddl('maildrop-lock.sql'));
  const from = `'${subnet}.%'`;
  await db.query(`CREATE USER 'r2d2'@${from} IDENTIFIED BY '${users.accountsPassword}'`);
  await db.query(`GRANT SELECT ON lab.mailbox TO 'r2d2'@${from}`);
  await db.query(`CREATE USER 'r2d2_lock'@${from} IDENTIFIED BY '${users.lockPassword}'`);
  await db.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON lab.r2d2_maildrop_lock TO 'r2d2_lock'@${from}`);
  for (const user of [...users.readers, ...users.deleters]) {
    await db.execute('INSERT INTO lab.mailbox (username, password, maildir, active) VALUES (?, SHA2(?, 256), ?, 1)', [user, users.password, join(mailRoot, user)]);
  }
}

/** A message the lab can recognise: its id in `X-Lab-Id:`. */
export function labMessage(id: string, lines: number): Buffer {
  const body = Array.from({ length: lines }, (_, i) => `line ${i + 1} of ${id}`).join('\n');
  return Buffer.from(`From: lab@example.org\nTo: ${id.split('-')[0] ?? 'user'}@example.org\nSubject: ${id}\nX-Lab-Id: ${id}\n\n${body}\n`);
}

export class Deliveries {
  /** Lab id -> user, for everything delivered to a deleting client's maildrop. */
  readonly delivered = new Map<string, string>();
  private readonly counters = new Map<string, number>();

  constructor(private readonly mailRoot: string) {}

  async deliver(user: string): Promise<void> {
    const n = (this.counters.get(user) ?? 0) + 1;
    this.counters.set(user, n);
    const id = `${user}-${n}`;
    await deliverMessage(labMessage(id, 2 + (n % 5)), { maildir: join(this.mailRoot, user), maildirRoot: this.mailRoot, host: 'lab-mx' });
    this.delivered.set(id, user);
  }
}

/** The reader maildrops all hold the same messages: what STAT and each RETR must say. */
export async function fillReaders(mailRoot: string, readers: readonly string[], count: number): Promise<number[]> {
  const sizes: number[] = [];
  for (const user of readers) {
    for (let i = 1; i <= count; i++) {
      const delivered = await deliverMessage(labMessage(`${user}-r${i}`, 3 * i), { maildir: join(mailRoot, user), maildirRoot: mailRoot, host: 'lab-mx' });
      if (user === readers[0]) sizes.push(delivered.size);
    }
  }
  return sizes;
}

/** The lab ids of the messages in these maildrops now (new/ and cur/). */
export function remainingIds(mailRoot: string, users: readonly string[]): Set<string> {
  const ids = new Set<string>();
  for (const user of users) {
    for (const sub of ['new', 'cur']) {
      const dir = join(mailRoot, user, sub);
      let names: string[] = [];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const name of names) {
        const match = /^X-Lab-Id: (\S+)$/m.exec(readFileSync(join(dir, name), 'latin1'));
        if (match?.[1] !== undefined) ids.add(match[1]);
      }
    }
  }
  return ids;
}
