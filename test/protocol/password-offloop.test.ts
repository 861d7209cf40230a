// Hashing never stalls the thread that serves sessions: Argon2 runs on libuv's pool, so a
// logged-in session's NOOPs keep being answered while 16 Argon2 logins are under way on the
// same server (this process, one thread). Counted, not timed.
import t from 'tap';
import { fixture } from '../helpers/fixture';
import { addMailbox, Doveadm, POSTFIXADMIN_QUERY, usePostfixAdminTables } from '../helpers/postfixadmin';

const LOGINS = 16;

t.test('NOOP round trips interleave with 16 Argon2 logins on one thread', async (t) => {
  const doveadm = new Doveadm();
  t.teardown(() => doveadm.remove());
  const f = await fixture(t, { query: POSTFIXADMIN_QUERY });
  await usePostfixAdminTables(f.db);
  f.mail.maildir(await addMailbox(f.db, 'idle@example.com', '{PLAIN}idle'));
  for (let i = 0; i < LOGINS; i++) f.mail.maildir(await addMailbox(f.db, `argon${i}@example.com`, doveadm.hash('ARGON2ID', `pw ${i}`)));
  const watcher = await f.loggedIn('idle@example.com', 'idle');
  const clients = await Promise.all(Array.from({ length: LOGINS }, () => f.client()));

  let finished = 0;
  const events: Array<'login' | 'noop'> = [];
  const logins = clients.map(async (c, i) => {
    const reply = await c.login(`argon${i}@example.com`, `pw ${i}`);
    finished++;
    events.push('login');
    return reply.ok;
  });
  let noops = 0;
  let failedNoops = 0;
  let noopsBeforeFirstLogin = 0;
  while (finished < LOGINS) {
    const reply = await watcher.cmd('NOOP');
    if (!reply.ok) failedNoops++;
    noops++;
    if (finished === 0) noopsBeforeFirstLogin++;
    events.push('noop');
  }
  t.equal(failedNoops, 0, 'every NOOP answered +OK');
  t.same(await Promise.all(logins), Array<boolean>(LOGINS).fill(true), 'every Argon2 login succeeds');
  // Hashing on the loop would leave at most one NOOP between two hashes (16 hashes: about 17 in
  // all); off it, they stream on for as long as any login hashes. Counted over the whole time the
  // logins ran, not before the first one ends: how many NOOPs fit in one Argon2 hash depends on
  // how loaded the machine is (CI once saw 14).
  t.ok(noops >= 2 * LOGINS, `${noops} NOOPs answered while the ${LOGINS} logins were hashing`);
  const after = events.slice(events.indexOf('login')).filter((e) => e === 'noop').length;
  t.comment(`${noopsBeforeFirstLogin} NOOPs before the first login finished, ${after} after`);
});
