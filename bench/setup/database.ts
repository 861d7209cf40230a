// The accounts both servers authenticate against: one private MariaDB database holding r2d2's
// example `mailbox` table (SHA-256 hex passwords), dropped at the end.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConnection, type Connection } from 'mysql2/promise';

export const DB = { host: '127.0.0.1', port: 3306, user: 'root', password: '' };

/** r2d2's production query (personality/c11n). */
export const R2D2_QUERY = 'SELECT maildir FROM mailbox WHERE username = %u AND password = SHA2(%p, 256) AND active = 1';

/** The same table with r2d2 verifying the stored hash itself (a `password` column, no %p). */
export const R2D2_VERIFYING_QUERY = 'SELECT maildir, password FROM mailbox WHERE username = %u AND active = 1';

export class BenchDatabase {
  private constructor(
    readonly name: string,
    private readonly admin: Connection,
  ) {}

  static async create(): Promise<BenchDatabase> {
    let admin: Connection;
    try {
      admin = await createConnection({ ...DB, multipleStatements: false });
    } catch (error) {
      throw new Error(`MariaDB is not answering on ${DB.host}:${DB.port} as ${DB.user} (start it as the README says): ${(error as Error).message}`);
    }
    const name = `r2d2_bench_${randomBytes(4).toString('hex')}`;
    await admin.query(`CREATE DATABASE \`${name}\``);
    // The example personality's own table (personality/mailbox.sql), so tests run what operators get.
    await admin.query(`USE \`${name}\``);
    await admin.query(readFileSync(join(__dirname, '../../../personality/mailbox.sql'), 'utf8'));
    return new BenchDatabase(name, admin);
  }

  async addUsers(users: readonly { name: string; password: string; maildir: string }[]): Promise<void> {
    const rows = users.map((u) => [u.name, createHash('sha256').update(u.password).digest('hex'), u.maildir, 1]);
    for (let i = 0; i < rows.length; i += 500) {
      await this.admin.query(`INSERT INTO \`${this.name}\`.mailbox (username, password, maildir, active) VALUES ?`, [rows.slice(i, i + 500)]);
    }
  }

  /** Accounts whose password column holds a `{SCHEME}` hash as it is. */
  async addHashedUsers(users: readonly { name: string; hash: string; maildir: string }[]): Promise<void> {
    const rows = users.map((u) => [u.name, u.hash, u.maildir, 1]);
    for (let i = 0; i < rows.length; i += 500) {
      await this.admin.query(`INSERT INTO \`${this.name}\`.mailbox (username, password, maildir, active) VALUES ?`, [rows.slice(i, i + 500)]);
    }
  }

  async drop(): Promise<void> {
    try {
      await this.admin.query(`DROP DATABASE IF EXISTS \`${this.name}\``);
    } finally {
      await this.admin.end();
    }
  }
}
