// Moving from Courier without a re-download: Debian's Courier pop3d (unpacked privately, see
// test/helpers/courier-pop3.ts) serves a maildrop to mpop and fetchmail keeping mail on the
// server; `r2d2 maildir import-uidls --from courier` reads its courierpop3dsizelist; r2d2 then
// serves the maildrop to the same clients with the same memory files: they fetch nothing, and
// after one `r2d2 deliver`, exactly one message.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { CourierPop3 } from '../helpers/courier-pop3';
import { fixture } from '../helpers/fixture';
import { KeepClients } from '../helpers/keep-clients';
import { putMessage, sampleMessage } from '../helpers/maildir';
import { run } from '../helpers/run';
import { servedUidls } from '../helpers/served-uidls';

const R2D2 = path.join(__dirname, '../../../bin/r2d2');
const USER = 'bob@example.com';
const PASSWORD = 'courier-Pa55';
const COUNT = 5;

const uidls = (port: number): Promise<string[]> => servedUidls(port, USER, PASSWORD);

t.test('Courier: courierpop3dsizelist UIDLs, Courier names without a Z size', async (t) => {
  const f = await fixture(t);
  const md = f.mail.maildir('bob');
  // What Courier's deliverquota writes (`,S=` for its quota, no Z), and one message r2d2 delivered.
  for (let i = 0; i < COUNT - 1; i++) {
    const bytes = Buffer.from(sampleMessage(i));
    writeFileSync(path.join(md, 'new', `${1700000000 + i}.M${100 + i}P4242V000000000000FC03I00000000000ABCD${i}_0.mx.example.com,S=${bytes.length}`), bytes);
  }
  putMessage(md, sampleMessage(COUNT - 1));
  await f.db.addUser(USER, PASSWORD, md);
  const clients = new KeepClients(USER, PASSWORD);
  t.teardown(() => clients.remove());

  const courier = await CourierPop3.start({ user: USER, password: PASSWORD, maildir: md });
  let served: string[];
  try {
    served = await uidls(courier.port);
    t.equal(served.length, COUNT, 'Courier lists every message', { log: courier.log.join('') });
    t.ok(served.every((u) => /^UID\d+-\d+$/.test(u)), 'as UID<n>-<uidvalidity>', { served });
    t.equal((await clients.mpop(courier.port)).count, COUNT, 'mpop fetched everything from Courier');
    t.equal((await clients.fetchmail(courier.port)).count, COUNT, 'fetchmail fetched everything from Courier');
    t.equal((await clients.mpop(courier.port)).count, 0, 'and nothing on a second run');
  } finally {
    await courier.stop();
  }
  t.match(readFileSync(path.join(md, 'courierpop3dsizelist'), 'utf8'), /^\/3 \d+ \d+\n/, 'Courier wrote its sizelist');
  t.ok(readdirSync(path.join(md, 'cur')).every((n) => n.includes(':2,S')), 'Courier moved the messages to cur/ and marked them seen');

  const r = await run(R2D2, ['maildir', 'import-uidls', '--from', 'courier', md]);
  t.equal(r.code, 0, 'import', { stderr: r.stderr, stdout: r.stdout.toString() });
  t.match(r.stdout.toString(), `${md}: ${COUNT} messages: ${COUNT} imported (${COUNT} new), 0 already r2d2's, 0 not found in the uidlist, 0 conflicts, 0 invalid, ${COUNT - 1} renamed (Z size added)`);

  t.same(await uidls(f.server.port), served, 'r2d2 serves the UIDLs Courier served');
  t.equal((await clients.mpop(f.server.port)).count, 0, 'mpop fetches nothing from r2d2');
  const fetchmail = await clients.fetchmail(f.server.port);
  t.equal(fetchmail.result.code, 1, 'fetchmail: no new mail', { stderr: fetchmail.result.stderr });
  t.equal(fetchmail.count, 0, 'fetchmail fetches nothing from r2d2');

  const delivered = await run(R2D2, ['deliver', '--maildir', md], { input: sampleMessage(99) });
  t.equal(delivered.code, 0, 'r2d2 deliver', { stderr: delivered.stderr });
  t.equal((await clients.mpop(f.server.port)).count, 1, 'mpop fetches exactly the new message');
  t.equal((await clients.fetchmail(f.server.port)).count, 1, 'fetchmail fetches exactly the new message');
});
