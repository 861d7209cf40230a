import { Pop3Client } from './pop3-client';

/** The UIDLs a POP3 server on `port` lists for `user` (r2d2 or the server it replaces), sorted. */
export async function servedUidls(port: number, user: string, password: string): Promise<string[]> {
  const { client } = await Pop3Client.greeted(port);
  try {
    const login = await client.login(user, password);
    if (!login.ok) throw new Error(`login: ${login.text}`);
    const listing = (await client.cmd('UIDL')).lines ?? [];
    await client.cmd('QUIT');
    return listing.map((line) => line.split(' ')[1] ?? '').sort();
  } finally {
    client.destroy();
  }
}
