// An in-process LMTP listener (src/lmtp) on a free loopback port, with a real MariaDB and a
// temporary mail root, for protocol tests; everything is removed at teardown.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { parseConfigText } from '../../src/config/load';
import { openLog } from '../../src/log/logger';
import { startLmtp, type RunningLmtp } from '../../src/lmtp/lmtp-server';
import { TestDatabase } from './mariadb';
import { MailRoot } from './maildir';
import { testConfigText } from './test-server';

export const RECIPIENT_QUERY = 'SELECT maildir, quota FROM mailbox WHERE username = %u AND active = 1';

export interface LmtpFixture {
  readonly db: TestDatabase;
  readonly mail: MailRoot;
  readonly port: number;
  readonly lmtp: RunningLmtp;
  readonly lines: string[];
  /** A user whose maildir is `<mail root>/<local part>`; returns the maildir. */
  addUser(address: string, quota?: string): Promise<string>;
}

/**
 * `lmtp`: the lmtp section's keys; `deliver`: extra keys of the deliver section; `blockingFileIo`
 * false: `blocking_file_io = no` (every file call through the thread pool, deliver/disk.ts).
 */
export async function lmtpFixture(t: Test, options: { lmtp?: string; deliver?: string; deliverDatabase?: string; blockingFileIo?: boolean } = {}): Promise<LmtpFixture> {
  const db = await TestDatabase.create();
  const mail = new MailRoot();
  const extra = `
${options.blockingFileIo === false ? 'blocking_file_io = no' : ''}
${options.deliverDatabase ?? ''}
deliver { recipient_query_format_string = "${RECIPIENT_QUERY}"  ${options.deliver ?? ''} }
lmtp { address = 127.0.0.1  port = 0  ${options.lmtp ?? ''} }`;
  const config = parseConfigText(testConfigText({ database: db.name, maildirRoot: mail.path, extra }), process.cwd(), {}, 2);
  const lines: string[] = [];
  const logging = openLog({ identity: config.identity, log: config.log, pid: 4242, sink: (line) => lines.push(line) });
  const lmtp = await startLmtp({ config, log: logging.log, poolSize: 4 });
  t.teardown(async () => {
    await lmtp.close();
    await logging.close();
    await db.drop();
    mail.remove();
  });
  const addUser = async (address: string, quota?: string): Promise<string> => {
    const maildir = join(mail.path, address.split('@')[0] ?? address);
    await db.addUser(address, 'pw', maildir);
    if (quota !== undefined) await db.query(`UPDATE \`${db.name}\`.mailbox SET quota = ? WHERE username = ?`, [quota, address]);
    return maildir;
  };
  return { db, mail, port: lmtp.listeners[0]?.port ?? 0, lmtp, lines, addUser };
}

/** The files of a maildir's sub-folder (none when it does not exist). */
export function filesIn(maildir: string, sub: 'new' | 'tmp' | 'cur' = 'new'): string[] {
  const dir = join(maildir, sub);
  return existsSync(dir) ? readdirSync(dir) : [];
}
