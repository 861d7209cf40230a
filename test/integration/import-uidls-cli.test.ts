// `r2d2 maildir import-uidls` through the real CLI on hand-made uidlists, proven against the real
// POP3 server: conflicts and invalid unique-ids are reported and exit 1, the lock is respected,
// Courier IMAP UIDs with a format, usage errors.
import { appendFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { fixture } from '../helpers/fixture';
import { putMessage, sampleMessage } from '../helpers/maildir';
import { run } from '../helpers/run';

const R2D2 = path.join(__dirname, '../../../bin/r2d2');
const tool = (...args: string[]): ReturnType<typeof run> => run(R2D2, ['maildir', 'import-uidls', ...args]);
const baseOf = (name: string): string => name.split(':')[0] ?? name;

t.test('conflicts and invalid unique-ids: reported, not stored, exit 1; the rest imported', async (t) => {
  const f = await fixture(t);
  const md = f.mail.maildir('carol');
  const names = [0, 1, 2, 3].map((i) => putMessage(md, (i === 2 ? 'X-UIDL: with space\n' : '') + sampleMessage(i), 'cur', 'S'));
  writeFileSync(
    path.join(md, 'dovecot-uidlist'),
    `3 V1700000000 N9 G0123\n1 P:same :${baseOf(names[0]!)}\n2 P:same :${baseOf(names[1]!)}\n3 :${baseOf(names[2]!)}:2,S\n`,
  );
  await f.db.addUser('carol', 'pw', md);

  const locked = await f.loggedIn('carol', 'pw');
  const busy = await tool('--from', 'dovecot', '--wait', '0', md);
  t.equal(busy.code, 75, 'a POP3 session holds the lock', { stderr: busy.stderr });
  t.match(busy.stderr, 'the maildrop is locked by a POP3 session; nothing was imported');
  await locked.cmd('QUIT');
  await locked.waitClosed();

  const r = await tool('--from', 'dovecot', '--reuse-xuidl', '--progress', md);
  t.equal(r.code, 1, 'something could not be kept', { stderr: r.stderr });
  t.match(r.stderr, /reading .*\[#+\] 100% 1\/1/, 'a progress bar while the headers are read');
  const out = r.stdout.toString();
  t.match(out, `conflict cur/${names[1]}: :same is the unique-id of cur/${names[0]} too`);
  t.match(out, `invalid cur/${names[2]}: "with space" is not an RFC 1939 unique-id`);
  t.match(out, `${md}: 4 messages: 1 imported (1 new), 0 already r2d2's, 1 not found in the uidlist, 1 conflicts, 1 invalid`);

  const c = await f.loggedIn('carol', 'pw');
  const uidls = ((await c.cmd('UIDL')).lines ?? []).map((l) => l.split(' ')[1]);
  t.equal(uidls[0], ':same', 'the first keeps the unique-id Dovecot gave both');
  t.equal(new Set(uidls).size, 4, 'four messages, four unique-ids');
  await c.cmd('QUIT');
  await c.waitClosed();

  // `check` tells about the index: lines skipped, entries whose message is gone.
  appendFileSync(path.join(md, 'r2d2-uidls'), 'one-word-line\n');
  unlinkSync(path.join(md, 'cur', names[0]!));
  const check = await run(R2D2, ['maildir', 'check', md]);
  t.match(check.stdout.toString(), `${md}: r2d2-uidls: 1 lines skipped`);
  t.match(check.stdout.toString(), `${md}: r2d2-uidls: 1 of 1 entries for messages no longer there (the next import drops them)`);
});

t.test('Courier IMAP UIDs with --uidl-format; usage and missing maildirs', async (t) => {
  const f = await fixture(t);
  const md = f.mail.maildir('dave');
  const names = [0, 1].map((i) => putMessage(md, sampleMessage(i)));
  writeFileSync(path.join(md, 'courierimapuiddb'), `1 1700000000 8\n6 ${baseOf(names[0]!)}\n7 ${baseOf(names[1]!)}\n`);
  await f.db.addUser('dave', 'pw', md);
  const r = await tool('--from', 'courier', '--uidl-format', 'imap-%u.%v', md);
  t.equal(r.code, 0, 'import', { stderr: r.stderr });
  const c = await f.loggedIn('dave', 'pw');
  t.same((await c.cmd('UIDL')).lines, ['1 imap-6.1700000000', '2 imap-7.1700000000']);
  await c.cmd('QUIT');

  const usage = await tool('--from', 'xuidl', '--uidl-format', '%u', md);
  t.equal(usage.code, 64, '--uidl-format with xuidl');
  t.equal((await tool('--from', 'pop-before-smtp', md)).code, 64, 'an unknown --from');
  const missing = await tool('--from', 'courier', path.join(md, 'nowhere'));
  t.equal(missing.code, 66);
  t.match(missing.stderr, 'no such maildir');
});
