// LOGIN-DELAY without a last_login column: the host's memory of logins is shared by every worker
// thread of a real `r2d2 serve` (two threads), so a login on one thread delays the next on the other.
import t from 'tap';
import { Pop3Client } from '../helpers/pop3-client';
import { SpawnedServer, spawnedConfig } from '../helpers/spawned-server';
import { databaseAndMail } from '../helpers/test-resources';

t.test('a login on one worker thread delays the next login on the other', async (t) => {
  const { db, mail } = await databaseAndMail(t);
  await db.addUser('tess', 'pw', mail.maildir('tess'));
  const server = await SpawnedServer.start(t, spawnedConfig(db.name, mail.path, 'policy { login_delay = 900 }'));
  const clients: Pop3Client[] = [];
  t.teardown(() => clients.forEach((c) => c.destroy()));
  const connect = async (): Promise<Pop3Client> => {
    const { client } = await Pop3Client.greeted(server.port());
    clients.push(client);
    return client;
  };

  const first = await connect();
  t.ok((await first.login('tess', 'pw')).ok);
  await first.cmd('QUIT');
  const [, firstSession] = await server.waitFor(/\[(\d+)\] login ok user="tess"/);
  const workerOf = (session: string | undefined): string | undefined => new RegExp(`\\[${session}\\] connected .*worker="(\\d+)"`).exec(server.text)?.[1];
  const refusedOn = (): Set<string | undefined> =>
    new Set(
      server.lines
        .map((l) => /\[(\d+)\] login refused: login delay/.exec(l)?.[1])
        .filter((n): n is string => n !== undefined)
        .map(workerOf),
    );
  const loggedInOn = workerOf(firstSession);
  // Eight connections at once: the kernel spreads them over both threads' listening sockets --
  // usually; on a loaded machine one thread can take eight in a row: then eight more, at most five times.
  let refused = 0;
  for (let round = 0; round < 5 && (round === 0 || ![...refusedOn()].some((w) => w !== loggedInOn)); round++) {
    const others = await Promise.all(Array.from({ length: 8 }, connect));
    const replies = await Promise.all(others.map((c) => c.login('tess', 'pw')));
    for (const r of replies) t.match(r.text, /^\[LOGIN-DELAY\] too soon after the previous login/, 'refused');
    refused += 8;
    while (server.count(/login refused: login delay/) < refused) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  t.ok(loggedInOn !== undefined, `the first login ran on worker ${loggedInOn}`);
  t.ok([...refusedOn()].some((w) => w !== loggedInOn), `refused on workers ${[...refusedOn()].join(', ')}: the other thread saw the login`);
});
