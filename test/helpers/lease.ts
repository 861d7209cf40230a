import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DatabaseConfig } from '../../src/config/types';
import { MARIADB, type TestDatabase } from './mariadb';

export const LEASE_TABLE = 'r2d2_maildrop_lock';

/** Creates the lease table from personality/maildrop-lock.sql in the test database. */
export async function createLeaseTable(db: TestDatabase): Promise<void> {
  const ddl = readFileSync(join(__dirname, '../../../personality/maildrop-lock.sql'), 'utf8');
  const create = /CREATE TABLE[\s\S]*?ENGINE=InnoDB;/.exec(ddl.replace(/--.*$/gm, ''))?.[0];
  if (create === undefined) throw new Error('no CREATE TABLE in personality/maildrop-lock.sql');
  await db.query(`USE \`${db.name}\``);
  await db.query(create);
}

/** A database section for the test database, on the real MariaDB or on `hosts` (TCP proxies). */
export function databaseConfig(db: TestDatabase, hosts: readonly { host: string; port: number }[] = [MARIADB], extra: Partial<DatabaseConfig> = {}): DatabaseConfig {
  const [first] = hosts;
  return {
    name: 'accounts',
    driver: 'mysql',
    host: first?.host ?? MARIADB.host,
    port: first?.port ?? MARIADB.port,
    hosts,
    socket: undefined,
    user: MARIADB.user,
    password: MARIADB.password,
    database: db.name,
    poolSize: 2,
    connectTimeoutMs: 2000,
    queryTimeoutMs: 2000,
    file: undefined,
    ...extra,
  };
}

/** The lease rows now, by holder host. */
export async function leaseRows(db: TestDatabase): Promise<{ maildrop: string; path: string; token: string; holder_host: string; holder: string; live: number }[]> {
  const rows = await db.query(`SELECT maildrop, path, token, holder_host, holder, expires_at > UTC_TIMESTAMP(6) AS live FROM \`${db.name}\`.${LEASE_TABLE} ORDER BY taken_at`);
  return rows as { maildrop: string; path: string; token: string; holder_host: string; holder: string; live: number }[];
}

/** Makes every lease of `maildirPath` expired now, as if its host had stopped renewing `lease` seconds ago. */
export async function expireLeases(db: TestDatabase, maildirPath?: string): Promise<void> {
  const where = maildirPath === undefined ? '' : ' WHERE path = ?';
  await db.query(`UPDATE \`${db.name}\`.${LEASE_TABLE} SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND${where}`, maildirPath === undefined ? [] : [maildirPath]);
}
