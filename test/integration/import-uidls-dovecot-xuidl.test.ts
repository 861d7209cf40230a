// Moving from Dovecot with pop3_reuse_xuidl (X-UIDL headers) or another pop3_uidl_format:
// r2d2 serves what Dovecot served (see import-uidls-dovecot.test.ts).
import { chmodSync } from 'node:fs';
import t from 'tap';
import { DovecotPop3, giveToMail } from '../helpers/dovecot-pop3';
import { COUNT, importUidls, PASSWORD, put, servedByDovecot, servedByR2d2, uidls, USER } from '../helpers/dovecot-migration';
import { fixture } from '../helpers/fixture';

t.test('Dovecot with pop3_reuse_xuidl: X-UIDL headers, imported with --from xuidl', async (t) => {
  // Odd spellings: Dovecot takes the field case-insensitively and skips the space after the colon.
  const header = (i: number): string => (i === 3 ? 'x-uidl : Kept/By:Qpopper=3\n' : `X-Uidl:   fetched-${i}.by-qpopper!\n`);
  const s = await servedByDovecot(t, 'dovecot', { reuseXuidl: true, header });
  t.same(s.served, ['Kept/By:Qpopper=3', ...[0, 1, 2, 4, 5].map((i) => `fetched-${i}.by-qpopper!`)].sort(), 'Dovecot served the X-UIDL headers');
  const r = await importUidls('xuidl', s.md);
  t.equal(r.code, 0, 'import', { stderr: r.stderr, stdout: r.stdout.toString() });
  t.match(r.stdout.toString(), `${COUNT} imported (${COUNT} new)`);
  await servedByR2d2(t, s);
});

t.test('Dovecot with other pop3_uidl_formats: r2d2 serves what Dovecot expanded', async (t) => {
  const f = await fixture(t);
  chmodSync(f.mail.path, 0o755);
  const md = f.mail.maildir('alice');
  for (let i = 0; i < 3; i++) put(md, i, 'dovecot');
  giveToMail(md);
  await f.db.addUser(USER, PASSWORD, md);
  // %f is the base name (and %g too, without a G field); widths, offsets and modifiers as var_expand.
  for (const format of ['%v.%u-%f', '%Uf', '%08Xv-%11.2g']) {
    const dovecot = await DovecotPop3.start({ user: USER, password: PASSWORD, maildir: md, uidlFormat: format });
    let served: string[];
    try {
      served = await uidls(dovecot.port);
    } finally {
      await dovecot.stop();
    }
    const r = await importUidls('dovecot', '--uidl-format', format, md);
    t.equal(r.code, 0, `${format}: import`, { stderr: r.stderr, stdout: r.stdout.toString() });
    t.same(await uidls(f.server.port), served, `${format}: r2d2 serves what Dovecot served`);
  }
});
