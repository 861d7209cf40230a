import type { Test } from 'tap';
import { TestDatabase } from './mariadb';
import { MailRoot } from './maildir';
import { startTestServer, type TestServer, type TestServerOptions } from './test-server';
import { Pop3Client } from './pop3-client';

export interface Fixture {
  readonly db: TestDatabase;
  readonly mail: MailRoot;
  readonly server: TestServer;
  /** A connected, greeted client, closed at teardown. */
  client(): Promise<Pop3Client>;
  /** A client logged in as user/password. */
  loggedIn(user: string, password: string): Promise<Pop3Client>;
}

/** A real database, a real mail root and a real server for one tap test; all removed at teardown. */
export async function fixture(t: Test, options: Partial<TestServerOptions> = {}): Promise<Fixture> {
  const db = await TestDatabase.create();
  const mail = new MailRoot();
  const server = await startTestServer({ database: db.name, maildirRoot: mail.path, ...options });
  const clients: Pop3Client[] = [];
  t.teardown(async () => {
    for (const c of clients) c.destroy();
    await server.close();
    await db.drop();
    mail.remove();
  });
  const client = async (): Promise<Pop3Client> => {
    const { client: c, greeting } = await Pop3Client.greeted(server.port);
    if (!greeting.ok) throw new Error(`bad greeting: ${greeting.text}`);
    clients.push(c);
    return c;
  };
  const loggedIn = async (user: string, password: string): Promise<Pop3Client> => {
    const c = await client();
    const r = await c.login(user, password);
    if (!r.ok) throw new Error(`login failed: ${r.text}`);
    return c;
  };
  return { db, mail, server, client, loggedIn };
}
