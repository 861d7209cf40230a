import t from 'tap';
import { fixture } from '../helpers/fixture';
import { MARIADB } from '../helpers/mariadb';
import { putMessage, sampleMessage } from '../helpers/maildir';
import { TcpProxy } from '../helpers/tcp-proxy';

t.test('database down: logins get [SYS/TEMP], logged-in sessions go on, logins work again when it is back', async (t) => {
  const proxy = new TcpProxy(MARIADB.host, MARIADB.port);
  await proxy.start();
  t.teardown(() => proxy.stop());
  const f = await fixture(t, { dbPort: proxy.port });
  const md = f.mail.maildir('alice');
  putMessage(md, sampleMessage(1));
  const md2 = f.mail.maildir('bob');
  putMessage(md2, sampleMessage(2));
  await f.db.addUser('alice', 'pw', md);
  await f.db.addUser('bob', 'pw', md2);
  const alice = await f.loggedIn('alice', 'pw');

  await proxy.stop();
  const bob = await f.client();
  t.same(await bob.login('bob', 'pw'), { ok: false, text: '[SYS/TEMP] internal error, try again later' });
  t.same(await bob.cmd('PASS pw'), { ok: false, text: '[SYS/TEMP] internal error, try again later' }, 'still down');
  const retr = await alice.cmd('RETR 1');
  t.ok(retr.ok, 'the logged-in session is not affected');

  await proxy.start();
  t.ok((await bob.cmd('PASS pw')).ok, 'works again without a restart, same session');
  const line = f.server.lines.find((l) => l.includes('command failed'));
  t.ok(line, 'the failure was logged');
  t.notMatch(f.server.lines.join('\n'), /PASS pw|"pw"/, 'no password in any log line');
});

t.test('database frozen (a hang, nothing refused): after query_timeout the login gets [SYS/TEMP], then works after the thaw', async (t) => {
  const proxy = new TcpProxy(MARIADB.host, MARIADB.port);
  await proxy.start();
  t.teardown(() => proxy.stop());
  const f = await fixture(t, { dbPort: proxy.port, queryTimeout: 1 });
  await f.db.addUser('alice', 'pw', f.mail.maildir('alice'));
  const warm = await f.loggedIn('alice', 'pw'); // the pool holds a connection now
  await warm.cmd('QUIT');
  proxy.freeze();
  const c = await f.client();
  t.same(await c.login('alice', 'pw'), { ok: false, text: '[SYS/TEMP] internal error, try again later' });
  await f.server.waitForLine(/command failed .*(timeout|Timeout)/);
  proxy.thaw();
  t.ok((await c.cmd('PASS pw')).ok, 'works again after the thaw, same session');
});
