import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { createConnection, type Connection } from 'mysql2/promise';

/** The MariaDB every test talks to (README / .ci/run start it). */
export const MARIADB = {
  host: process.env['R2D2_TEST_DB_HOST'] ?? '127.0.0.1',
  port: Number(process.env['R2D2_TEST_DB_PORT'] ?? 3306),
  user: process.env['R2D2_TEST_DB_USER'] ?? 'root',
  password: process.env['R2D2_TEST_DB_PASSWORD'] ?? '',
};

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** A throwaway database with r2d2's example `mailbox` table; drop() removes it. */
export class TestDatabase {
  private constructor(
    readonly name: string,
    private readonly admin: Connection,
  ) {}

  static async create(): Promise<TestDatabase> {
    const admin = await createConnection({ ...MARIADB, multipleStatements: false });
    const name = `r2d2_test_${randomBytes(6).toString('hex')}`;
    await admin.query(`CREATE DATABASE \`${name}\``);
    // The example personality's own table (personality/mailbox.sql), so tests run what operators get.
    await admin.query(`USE \`${name}\``);
    await admin.query(readFileSync(join(__dirname, '../../../personality/mailbox.sql'), 'utf8'));
    return new TestDatabase(name, admin);
  }

  async addUser(username: string, password: string, maildir: string, active = true): Promise<void> {
    await this.admin.execute(`INSERT INTO \`${this.name}\`.mailbox (username, password, maildir, active) VALUES (?, ?, ?, ?)`, [
      username,
      sha256(password),
      maildir,
      active ? 1 : 0,
    ]);
  }

  async query(sql: string, params: unknown[] = []): Promise<unknown> {
    const [rows] = await this.admin.query(sql, params);
    return rows;
  }

  async drop(): Promise<void> {
    await this.admin.query(`DROP DATABASE IF EXISTS \`${this.name}\``);
    await this.admin.end();
  }
}

/** The production-style query the tests configure. */
export const MAILBOX_QUERY = 'SELECT maildir FROM mailbox WHERE username = %u AND password = SHA2(%p, 256) AND active = 1';
