// Moving from Dovecot, names without a Z size (Dovecot's own `,S=,W=` names): imported, renamed
// as `fix` renames them, and served without a re-download (see import-uidls-dovecot.test.ts).
import { readdirSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { COUNT, importUidls, R2D2, servedByDovecot, servedByR2d2 } from '../helpers/dovecot-migration';
import { run } from '../helpers/run';

t.test('Dovecot, names without a Z size (Dovecot\'s own ,S=,W= names), dovecot-uidlist in the maildir', async (t) => {
  const s = await servedByDovecot(t, 'dovecot');
  const r = await importUidls('dovecot', s.md);
  t.equal(r.code, 0, 'import', { stderr: r.stderr, stdout: r.stdout.toString() });
  t.match(r.stdout.toString(), `${COUNT} imported (${COUNT} new), 0 already r2d2's, 0 not found in the uidlist, 0 conflicts, 0 invalid, ${COUNT} renamed (Z size added)`);
  for (const sub of ['new', 'cur']) for (const name of readdirSync(path.join(s.md, sub))) t.match(name, /^\d+\.M\d+P77Z[0-9A-F]+\.mx1,S=/, `${sub}/${name} has a Z size`);
  const check = await run(R2D2, ['maildir', 'check', s.md]);
  t.equal(check.code, 0, 'check: nothing left to fix', { stdout: check.stdout.toString() });
  const again = await importUidls('dovecot', s.md);
  t.match(again.stdout.toString(), `${COUNT} imported (0 new)`, 'idempotent after the renames (entries keyed by the Z-less name)');
  t.equal(again.code, 0);
  await servedByR2d2(t, s);
});
