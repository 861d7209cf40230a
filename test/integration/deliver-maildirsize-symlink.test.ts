// A maildirsize is untrusted (issue 12 item 3): a symlinked one is never written through, by
// `r2d2 deliver` nor by the POP3 UPDATE state of a real server.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import t from 'tap';
import { deliverMessage } from '../../src/deliver/deliver';
import { MAILDIRSIZE_REFUSED_CHANNEL } from '../../src/maildrop/maildirsize';
import { fixture } from '../helpers/fixture';
import { putMessage } from '../helpers/maildir';

const R2D2 = path.join(__dirname, '../../../bin/r2d2');
const OUTSIDE_TEXT = '1000S,10C\n0 0\n';

t.test('a maildirsize symlinked to an outside file: deliveries and a POP3 DELE+QUIT leave that file unchanged', async (t) => {
  const f = await fixture(t);
  const refusals: string[] = [];
  const onRefusal = (message: unknown): void => {
    refusals.push(String((message as { reason?: unknown }).reason));
  };
  subscribe(MAILDIRSIZE_REFUSED_CHANNEL, onRefusal);
  t.teardown(() => unsubscribe(MAILDIRSIZE_REFUSED_CHANNEL, onRefusal));

  const dir = f.mail.maildir('alice');
  const outside = path.join(f.mail.path, 'outside-file');
  fs.writeFileSync(outside, OUTSIDE_TEXT);
  const link = path.join(dir, 'maildirsize');
  fs.symlinkSync(outside, link);
  putMessage(dir, 'Subject: one\n\none\n');
  putMessage(dir, 'Subject: two\n\ntwo\n');

  // No quota configured: the link is treated as no maildirsize at all.
  await deliverMessage(Buffer.from('Subject: three\n\nthree\n'), { maildir: dir });
  t.equal(fs.readFileSync(outside, 'utf8'), OUTSIDE_TEXT, 'a delivery without a quota did not append to the target');
  t.ok(fs.lstatSync(link).isSymbolicLink(), 'and left the link alone');
  t.ok(refusals.length > 0, `the refusal was published (${refusals.join('; ')})`);

  // POP3: DELE + QUIT on a maildrop whose maildirsize is the link.
  await f.db.addUser('alice@example.com', 'secret', dir);
  const c = await f.loggedIn('alice@example.com', 'secret');
  t.equal((await c.cmd('STAT')).text.split(' ')[0], '3');
  t.ok((await c.cmd('DELE 1')).ok);
  t.ok((await c.cmd('DELE 2')).ok);
  t.ok((await c.cmd('QUIT')).ok);
  await c.readToClose().catch(() => '');
  t.equal(fs.readdirSync(path.join(dir, 'new')).length + fs.readdirSync(path.join(dir, 'cur')).length, 1, 'the two messages were removed');
  t.equal(fs.readFileSync(outside, 'utf8'), OUTSIDE_TEXT, 'UPDATE did not append -bytes -messages to the target');
  t.ok(fs.lstatSync(link).isSymbolicLink());

  // `r2d2 deliver` says so on stderr and delivers.
  const cli = spawnSync(process.execPath, [R2D2, 'deliver', '--maildir', dir], { input: 'Subject: cli\n\ncli\n', encoding: 'utf8', timeout: 60_000 });
  t.equal(cli.status, 0, cli.stderr);
  t.match(cli.stderr, /^r2d2 deliver: warning: .*maildirsize: maildirsize is a symbolic link/);
  t.equal(fs.readFileSync(outside, 'utf8'), OUTSIDE_TEXT, 'nor did the command line');

  // With a quota configured the maildir needs a real maildirsize: it is made anew beside the
  // link's target, which stays as it was.
  await deliverMessage(Buffer.from('Subject: four\n\nfour\n'), { maildir: dir, quota: { bytes: 100000, messages: undefined } });
  t.equal(fs.readFileSync(outside, 'utf8'), OUTSIDE_TEXT, 'a delivery with a quota did not write the target');
  const st = fs.lstatSync(link);
  t.ok(st.isFile() && !st.isSymbolicLink(), 'maildirsize is now a real file of the maildir');
  t.match(fs.readFileSync(link, 'utf8'), /^100000S\n\d+ 2\n\d+ 1\n$/, 'counted from the maildir, then the delivery appended');
});
