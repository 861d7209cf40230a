import t from 'tap';
import { fixture } from '../helpers/fixture';
import { putMessage, sampleMessage } from '../helpers/maildir';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

t.test('the autologout timer ends an idle session without applying deletions', async (t) => {
  const f = await fixture(t, { idleTimeout: 1 });
  const md = f.mail.maildir('alice');
  putMessage(md, sampleMessage(1));
  await f.db.addUser('alice', 'pw', md);
  const c = await f.loggedIn('alice', 'pw');
  await c.cmd('DELE 1');
  const rest = await c.readToClose();
  t.equal(rest, '-ERR autologout: idle for too long\r\n');
  await f.server.waitForLine(/disconnected: timeout, sequence="upd" delays="0"/);
  t.equal(readdirSync(join(md, 'new')).length, 1, 'nothing deleted');
  const again = await f.loggedIn('alice', 'pw');
  t.ok((await again.cmd('STAT')).ok, 'lock was freed');
});

t.test('max_connections refuses the connection past the limit with [SYS/TEMP]', async (t) => {
  const f = await fixture(t, { maxConnections: 2 });
  await f.client();
  await f.client();
  const { Pop3Client } = await import('../helpers/pop3-client');
  const third = await Pop3Client.open(f.server.port);
  t.same(await third.readStatus(), { ok: false, text: '[SYS/TEMP] too many connections, try again later' });
  await third.waitClosed();
});
