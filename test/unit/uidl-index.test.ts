// The imported-UIDL index format, the serving rule for unique-ids claimed twice, and what the
// import decides to write (src/maildrop/uidl-index.ts, uidl-assign.ts, maildir-tools/uidl-plan.ts).
import t from 'tap';
import { displacedUidl } from '../../src/maildrop/name';
import { assignImportedUidls } from '../../src/maildrop/uidl-assign';
import { formatUidlIndex, parseUidlIndex } from '../../src/maildrop/uidl-index';
import { planIndex, type Listed } from '../../src/maildir-tools/uidl-plan';

t.test('index: header required, lines validated, first key wins, formatted sorted', async (t) => {
  t.equal(parseUidlIndex(Buffer.from('1.M1.h 00000001\n')), undefined, 'no header: not an index');
  const seventy = 'x'.repeat(70);
  const parsed = parseUidlIndex(
    Buffer.from(`r2d2-uidls 1\nb.M2.h UID2-7\na.M1.h ${seventy}\nb.M2.h again\nno-space\nc.M3.h ${seventy}x\nd.M4.h has space\ne.M5.h caf\u00e9\n\n f.h g\n`, 'latin1'),
  );
  t.same([...(parsed?.entries ?? [])], [['b.M2.h', 'UID2-7'], ['a.M1.h', seventy]]);
  t.equal(parsed?.rejected, 6, 'repeated key, no value, 71 characters, two spaces, 8-bit, leading space');
  t.equal(formatUidlIndex(parsed!.entries).toString(), `r2d2-uidls 1\na.M1.h ${seventy}\nb.M2.h UID2-7\n`);
  t.same(parseUidlIndex(formatUidlIndex(parsed!.entries))?.entries, parsed?.entries, 'round trip');
});

t.test('serving: an imported unique-id stays with its message; never two messages with one', async (t) => {
  const messages = ['a', 'b', 'c', 'd', 'UID9'].map((uidl) => ({ uidl }));
  // a and b claim one value (a damaged index); c imports d's own unique-id; UID9 has no entry.
  const result = assignImportedUidls(messages, new Map([['a', 'X'], ['b', 'X'], ['c', 'd'], ['e', 'UID9']]));
  t.same(messages.map((m) => m.uidl), ['X', 'b', 'd', displacedUidl('d'), 'UID9']);
  t.same(result, { imported: 2, displaced: 1 });
  t.equal(new Set(messages.map((m) => m.uidl)).size, 5);
  t.match(displacedUidl('d'), /^h[A-Za-z0-9_-]{39}$/);
  t.not(displacedUidl('d'), displacedUidl('e'));
});

const listed = (...natives: string[]): Listed[] => natives.map((native, i) => ({ dir: 'cur', file: `${native}:2,S`, native: native || `m${i}` }));

t.test('plan: imported, already, not found, invalid, conflicts, displaced, earlier entries', async (t) => {
  const messages = listed('m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'UIDX');
  const foreign = new Map([
    ['m1', 'UID1-5'],
    ['m2', 'm2'], // the old server's unique-id is r2d2's own
    ['m4', 'has space'],
    ['m5', 'UID1-5'], // the same as m1's: m1 (first) keeps it
    ['m6', 'UIDX'], // another message's own unique-id: that one is displaced
    ['m7', 'UID7-5'],
  ]);
  const earlier = new Map([['m3', 'UID3-4'], ['m7', 'UID7-5'], ['gone', 'UID0-1']]);
  const plan = planIndex(messages, foreign, earlier);
  t.same([...plan.entries].sort(), [['m1', 'UID1-5'], ['m3', 'UID3-4'], ['m6', 'UIDX'], ['m7', 'UID7-5']], 'an earlier entry stays, a gone message\'s goes');
  t.same(plan.outcomes.map((o) => o.outcome), [
    { kind: 'imported', uidl: 'UID1-5', earlier: false },
    { kind: 'already' },
    { kind: 'not-found', keptEarlier: 'UID3-4' },
    { kind: 'invalid', uidl: 'has space' },
    { kind: 'conflict', uidl: 'UID1-5', holder: 'cur/m1:2,S' },
    { kind: 'imported', uidl: 'UIDX', earlier: false },
    { kind: 'imported', uidl: 'UID7-5', earlier: true },
    { kind: 'not-found', keptEarlier: undefined },
  ]);
  t.same(plan.displaced.map((m) => m.native), ['UIDX']);
  t.same(planIndex(messages, foreign, plan.entries).entries, plan.entries, 'idempotent');
});
