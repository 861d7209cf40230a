import t, { type Test } from 'tap';
import { parseMaildirName } from '../../src/maildrop/name';
import { planRename, problemOf, type PlanOptions } from '../../src/maildir-tools/name-fix';

const opts = (over: Partial<PlanOptions> = {}): PlanOptions => ({ mtimeSeconds: 1700000999, taken: () => false, newUidl: false, host: 'fixhost', ...over });

/** The rename keeps the unique-id and makes the size readable. */
function checkPlan(t: Test, name: string, size: number, over: Partial<PlanOptions> = {}): string {
  const plan = planRename(name, size, opts(over));
  if (plan.kind !== 'rename') {
    t.fail(`kept ${name}: ${plan.why}`);
    return name;
  }
  const before = parseMaildirName(name);
  const after = parseMaildirName(plan.name);
  t.equal(after.size, size, `${plan.name}: size`);
  if (plan.keepsUidl && !name.includes('\uFFFD')) t.equal(after.uidl, before.uidl, `${plan.name}: uidl of ${name}`);
  t.ok(after.base.length <= 70, `${plan.name}: within 70`);
  t.equal(name.includes(':') ? plan.name.slice(plan.name.indexOf(':')) : '', name.includes(':') ? name.slice(name.indexOf(':')) : '', 'info kept');
  return plan.name;
}

t.test('carried unique-ids (name.ts): host part ~<uidl> after a trusted size', async (t) => {
  t.same(parseMaildirName('1700000001.Z12.~h2TpmCBxKPNtDfVBp9l5p-HJwuqXVAafY5uZU7Yq:2,S'), {
    base: '1700000001.Z12.~h2TpmCBxKPNtDfVBp9l5p-HJwuqXVAafY5uZU7Yq',
    size: 0x12,
    uidl: 'h2TpmCBxKPNtDfVBp9l5p-HJwuqXVAafY5uZU7Yq',
  });
  t.equal(parseMaildirName('1700000001.Q2Z12.~a.b.c').uidl, 'a.b.c', 'dots in the carried unique-id');
  t.equal(parseMaildirName('1700000001.M1.~abc').uidl, '1700000001.M1.~abc', 'no Z field: not carried');
  t.equal(parseMaildirName('1700000001.Z12.~').uidl, '1700000001..~', 'empty: not carried');
  t.equal(parseMaildirName('1700000001.Z1z.~abc').uidl, '1700000001.Z1z.~abc', 'no valid Z field: not carried');
});

t.test('problems', async (t) => {
  t.equal(problemOf('1764.M1P2Z1F.h', 31), undefined);
  t.equal(problemOf('1764.M1P2Z1F.h', undefined), undefined, 'quick: a Z size is trusted');
  t.equal(problemOf('1764.M1P2Z1F.h', 30), 'wrong-size');
  t.equal(problemOf('1764.M1P2.h,S=10:2,S', 10), 'no-size');
  t.equal(problemOf(`1764.M1P2Z1F.${'h'.repeat(70)}`, 31), 'too-long');
  t.equal(problemOf('1764.M1P2 x.h', 31), 'not-ascii');
  t.equal(problemOf('1764.M1P2.h\uFFFD', 31), 'not-utf8');
});

t.test('Dovecot and Courier names get a Z field and keep their unique-id', async (t) => {
  t.equal(checkPlan(t, '1700000000.M123P456.host,S=14,W=17:2,S', 17), '1700000000.M123P456Z11.host,S=14,W=17:2,S');
  checkPlan(t, '1700000000.M123456P7890V000000000000FC03I00000000000ABCDE.host:2,S', 1234, {});
  checkPlan(t, '1700000000.M123P456.host,S=14,W=17', 17);
  checkPlan(t, '1700000000.12345_1.courier.example.com:2,', 999999);
  t.equal(checkPlan(t, '1700000000.M1P2Z99.h', 7), '1700000000.M1P2Z7.h', 'a wrong size is corrected in place');
});

t.test('names whose unique-id the cut rule cannot keep carry it', async (t) => {
  const long = '1700000001.M123456P7890.mailstore-07.dc2.example-hosting.net,S=12345,W=12600:2,S';
  t.match(checkPlan(t, long, 18), /^1700000001\.Z12\.~h[A-Za-z0-9_-]{39}:2,S$/, 'hashed unique-id carried');
  t.equal(checkPlan(t, 'plain', 17), '1700000999.Z11.~plain', 'no dots: time from the mtime');
  t.match(checkPlan(t, '1764.M1Z10P2Z20.mx1:2,S', 5), /^1764\.Z5\.~1764\.M1Z10P2Z20\.mx1:2,S$/, 'two Z fields');
  checkPlan(t, '1764.M1P2.hôst:2,S', 5);
  const taken = new Set(['1700000999.Z11.~plain']);
  t.equal(checkPlan(t, 'plain', 17, { taken: (n) => taken.has(n) }), '1700000999.Q1Z11.~plain', 'a taken name is passed over');
});

t.test('when no name can hold both, the name is kept (or given a new unique-id on request)', async (t) => {
  const name = '1700000004.M123456P7890.mail-backend-03.example.com,S=12345,W=12600:2,'; // base of 66
  const kept = planRename(name, 0x123456, opts());
  t.equal(kept.kind, 'keep');
  t.match(kept.kind === 'keep' ? kept.why : '', /--new-uidl/);
  const fresh = planRename(name, 0x123456, opts({ newUidl: true }));
  t.equal(fresh.kind === 'rename' && fresh.keepsUidl, false);
  t.match(fresh.kind === 'rename' ? fresh.name : '', /^1700000004\.M\d+P\d+Q\d+Z123456\.fixhost:2,$/, 'keeps its time and flags');
});

t.test('names that are not UTF-8 (never served) get fresh names', async (t) => {
  const plan = planRename('1700000003.M1P2.h\uFFFD:2,S', 3, opts());
  t.match(plan.kind === 'rename' ? plan.name : '', /^1700000003\.M\d+P\d+Q\d+Z3\.fixhost:2,S$/);
});

t.test('any planned rename keeps the unique-id and the size (generated names)', async (t) => {
  const parts = ['1700000000', 'M1P2', 'Z1F', 'Z1f', 'host', 'mx.example.com', ',S=10', ',W=12', 'V1I2', 'x'.repeat(30), 'ô', '#3'];
  let n = 0;
  let seed = 7;
  const rnd = (k: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % k;
  };
  for (let i = 0; i < 2000; i++) {
    const pieces = Array.from({ length: 1 + rnd(5) }, () => parts[rnd(parts.length)] ?? '');
    const name = pieces.join(rnd(3) === 0 ? '' : '.') + (rnd(2) === 0 ? ':2,S' : '');
    const size = rnd(3) === 0 ? rnd(20) : rnd(2 ** 30);
    const plan = planRename(name, size, opts());
    if (plan.kind !== 'rename') continue;
    const after = parseMaildirName(plan.name);
    if (after.size !== size || after.uidl !== parseMaildirName(name).uidl || after.base.length > 70) t.fail(`${name} -> ${plan.name}`);
    n++;
  }
  t.ok(n > 1000, `${n} renames checked`);
});
