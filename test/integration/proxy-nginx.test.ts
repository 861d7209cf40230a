// nginx's mail proxy (Debian's nginx + libnginx-mod-mail) in front of two r2d2 backends: nginx
// asks r2d2's auth_http endpoint (a real `r2d2 serve`: the supervisor binds it, worker threads
// answer) where each user lives, then logs in on that backend with `proxy_protocol on`, so the
// backend sees the client's address.
import t from 'tap';
import { putMessage, sampleMessage } from '../helpers/maildir';
import { MAIL_MODULE, Nginx } from '../helpers/nginx';
import { freePort } from '../helpers/ports';
import { connectWithHeader } from '../helpers/proxy-header';
import { accountsOn, SpawnedServer, spawnedConfigOf } from '../helpers/spawned-server';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { databaseAndMail } from '../helpers/test-resources';

const AUTH_QUERY = 'SELECT maildir, host, port FROM mailbox WHERE username = %u AND password = SHA2(%p, 256) AND active = 1';

t.test('POP3 through nginx: auth_http routes each user to the backend of its row', async (t) => {
  const { db, mail } = await databaseAndMail(t);
  await db.query(`ALTER TABLE \`${db.name}\`.mailbox ADD COLUMN host VARCHAR(255) NULL, ADD COLUMN port INT NULL`);

  // Two backends on one maildir root, each knowing nginx (127.0.0.1) as its PROXY sender.
  const backends: TestServer[] = [];
  for (let i = 0; i < 2; i++) {
    const backend = await startTestServer({
      database: db.name,
      maildirRoot: mail.path,
      listeners: 'listen "pop3" { address = "127.0.0.1"  port = 0  proxy_protocol = yes  trusted_proxies = { "127.0.0.1" } }',
    });
    t.teardown(() => backend.close());
    backends.push(backend);
  }
  const [one, two] = backends as [TestServer, TestServer];
  putMessage(mail.maildir('alice'), 'Subject: for alice\n\nalice on backend one\n');
  putMessage(mail.maildir('bob'), sampleMessage(2));
  await db.addUser('alice', 'pw', `${mail.path}/alice`);
  // A password nginx must URL-escape for auth_http (space, %, non-ASCII) and pass on verbatim.
  await db.addUser('bob', 'p@ss w%rd é', `${mail.path}/bob`);
  await db.query(`UPDATE \`${db.name}\`.mailbox SET host = '127.0.0.1', port = ? WHERE username = 'alice'`, [one.port]);
  await db.query(`UPDATE \`${db.name}\`.mailbox SET host = '127.0.0.1', port = ? WHERE username = 'bob'`, [two.port]);

  // The auth_http side: a whole r2d2 (supervisor, engine, worker threads).
  const auth = await SpawnedServer.start(
    t,
    spawnedConfigOf({
      maildirRoot: mail.path,
      query: AUTH_QUERY,
      accounts: accountsOn(db.name, 'pool_size = 2'),
      extra: `auth_http { address = "127.0.0.1"  port = 0  trusted_proxies = { "127.0.0.1" } }
log { level = debug }`,
    }),
  );
  const authPort = auth.port('auth_http');
  const nginxPort = await freePort();
  const nginx = Nginx.start(
    t,
    `
load_module ${MAIL_MODULE};
worker_processes 1;
error_log $DIR/error.log info;
events { worker_connections 64; }
mail {
  auth_http 127.0.0.1:${authPort}/auth;
  pop3_auth plain;
  server {
    listen 127.0.0.1:${nginxPort};
    protocol pop3;
    proxy on;
    proxy_protocol on;
  }
}
`,
  );
  await nginx.waitForPort(nginxPort);

  const alice = await connectWithHeader(nginxPort, undefined, { localAddress: '127.0.0.2' });
  t.teardown(() => alice.destroy());
  t.ok((await alice.readStatus()).ok, 'nginx greets');
  t.ok((await alice.login('alice', 'pw')).ok, 'alice logs in through nginx');
  const retr = await alice.cmd('RETR 1');
  t.match(retr.lines?.join('\n'), /alice on backend one/, 'her message, from her backend');
  t.ok((await alice.cmd('QUIT')).ok);
  t.match(await one.waitForLine(/login ok user="alice"/), /messages="1"/, 'backend one served alice');
  t.match(await one.waitForLine(/connected peer="127\.0\.0\.2"/), /proxy="127\.0\.0\.1"/, 'backend one sees the client, through nginx\'s PROXY header');
  t.notOk(two.lines.some((l) => l.includes('user="alice"')), 'backend two never saw alice');
  t.ok(await auth.waitFor(/auth_http login ok user="alice" peer="127\.0\.0\.2" backend="127\.0\.0\.1:\d+"/), 'auth_http believed nginx\'s Client-IP');

  const bob = await connectWithHeader(nginxPort, undefined, { localAddress: '127.0.0.3' });
  t.teardown(() => bob.destroy());
  t.ok((await bob.readStatus()).ok);
  t.same(await bob.login('bob', 'nope'), { ok: false, text: '[AUTH] Authentication failed' }, 'a wrong password: r2d2\'s error, sent by nginx');
  t.ok(await auth.waitFor(/login failed: bad credentials user="bob" peer="127\.0\.0\.3"/), 'the failure names the client');
  t.ok((await bob.login('bob', 'p@ss w%rd é')).ok, 'after Auth-Wait the same connection may try again (an escaped password)');
  t.match((await bob.cmd('RETR 1')).lines?.join('\n'), /Subject: message 2/);
  t.match(await two.waitForLine(/login ok user="bob"/), /messages="1"/, 'backend two served bob');
  t.notOk(one.lines.some((l) => l.includes('user="bob"')), 'and backend one never saw bob');
  t.notOk([...one.lines, ...two.lines].some((l) => /login failed/.test(l)), 'no failed login on a backend: no second penalty');
});
