// What a test makes for itself and removes at teardown: a database and a mail root, a temp folder.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { TestDatabase } from './mariadb';
import { MailRoot } from './maildir';

/** A fresh test database and an empty mail root; the database is dropped and the root removed at teardown. */
export async function databaseAndMail(t: Test): Promise<{ db: TestDatabase; mail: MailRoot }> {
  const db = await TestDatabase.create();
  const mail = new MailRoot();
  t.teardown(async () => {
    await db.drop();
    mail.remove();
  });
  return { db, mail };
}

/** A temp folder `PREFIX…` (mode 0700), removed with all it holds at teardown. */
export function tempDir(t: Test, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
