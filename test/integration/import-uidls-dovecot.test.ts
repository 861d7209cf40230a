// Moving from Dovecot without a re-download: Debian's Dovecot (default pop3_uidl_format) serves
// a maildrop to mpop and fetchmail keeping mail on the server; `r2d2 maildir import-uidls` reads
// its dovecot-uidlist; r2d2 then serves the same maildrop to the same clients with the same
// memory files: they fetch nothing, and after one `r2d2 deliver`, exactly one message.
// (Split over import-uidls-dovecot*.test.ts: each file within the suite's time per file.)
import { mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { UIDL_INDEX_FILE } from '../../src/maildrop/uidl-index';
import { giveToMail } from '../helpers/dovecot-pop3';
import { COUNT, importUidls, R2D2, servedByDovecot, servedByR2d2 } from '../helpers/dovecot-migration';
import { run } from '../helpers/run';

t.test('Dovecot, names with a Z size, dovecot-uidlist in a CONTROL= folder', async (t) => {
  const control = mkdtempSync(path.join(tmpdir(), 'r2d2-dovecot-control-'));
  t.teardown(() => rmSync(control, { recursive: true, force: true }));
  giveToMail(control);
  const s = await servedByDovecot(t, 'z', { controlDir: control });

  const missing = await importUidls('dovecot', s.md);
  t.equal(missing.code, 66, 'without --control-dir: no dovecot-uidlist in the maildir');
  t.match(missing.stderr, /dovecot-uidlist: no such file \(with mail_location \.\.\.:CONTROL=DIR, give --control-dir\)/);

  const dry = await importUidls('dovecot', '--control-dir', control, '--dry-run', s.md);
  t.equal(dry.code, 0, 'dry run', { stderr: dry.stderr });
  t.match(dry.stdout.toString(), `${s.md}: would write r2d2-uidls: ${COUNT} entries`);
  t.notOk(readdirSync(s.md).includes(UIDL_INDEX_FILE), 'a dry run writes nothing');

  const first = await importUidls('dovecot', '--control-dir', control, s.md);
  t.equal(first.code, 0, 'import', { stderr: first.stderr, stdout: first.stdout.toString() });
  t.match(first.stdout.toString(), `${s.md}: ${COUNT} messages: ${COUNT} imported (${COUNT} new), 0 already r2d2's, 0 not found in the uidlist, 0 conflicts, 0 invalid, 0 renamed`);
  const index = readFileSync(path.join(s.md, UIDL_INDEX_FILE));

  // What must not disturb it: a flag change, a move new/ -> cur/ (EXPIRE's), `fix`, a second import.
  const fresh = readdirSync(path.join(s.md, 'new'));
  for (const name of fresh) renameSync(path.join(s.md, 'new', name), path.join(s.md, 'cur', `${name}:2,S`));
  for (const name of readdirSync(path.join(s.md, 'cur')).filter((n) => n.endsWith(':2,S'))) renameSync(path.join(s.md, 'cur', name), path.join(s.md, 'cur', name.replace(/:2,S$/, ':2,RS')));
  t.equal((await run(R2D2, ['maildir', 'fix', s.md])).code, 0, 'fix finds nothing to do');
  const again = await importUidls('dovecot', '--control-dir', control, s.md);
  t.equal(again.code, 0);
  t.match(again.stdout.toString(), `${COUNT} imported (0 new)`, 'a second import changes nothing');
  t.same(readFileSync(path.join(s.md, UIDL_INDEX_FILE)), index, 'the index is the same, byte for byte');

  await servedByR2d2(t, s);
});
