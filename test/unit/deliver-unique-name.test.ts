import t from 'tap';
import { MAX_UNIQUE_NAME_LENGTH, parseMaildirName } from '../../src/maildrop/name';
import { uniqueName } from '../../src/deliver/unique-name';

const hostOf = (name: string): string => name.slice(name.indexOf('.', name.indexOf('.') + 1) + 1);

t.test('names carry the size in upper-case hex and parse back', async (t) => {
  for (const size of [0, 1, 31, 0x1a2b, 20 * 1024 * 1024, 2 ** 40 + 5]) {
    const name = uniqueName(size, process.hrtime.bigint(), 'mx1.example.com');
    t.match(name, /^\d+\.M\d+P\d+Q\d+Z[0-9A-F]+\./);
    t.ok(name.length <= MAX_UNIQUE_NAME_LENGTH, name);
    const parsed = parseMaildirName(name);
    t.equal(parsed.size, size, name);
    t.equal(parsed.uidl, name.replace(/Z[0-9A-F]+\./, '.'), 'uidl is the name without its Z field');
  }
});

t.test('the host is encoded and never starts a carried unique-id', async (t) => {
  const name = uniqueName(10, process.hrtime.bigint(), '~mx/1:2.example\\x');
  t.equal(hostOf(name), '\\176mx\\0571\\0722\\056example\\134x');
  t.equal(parseMaildirName(name).size, 10);
  t.not(parseMaildirName(name).uidl, hostOf(name).slice(1), 'not read as a carried unique-id');
  t.equal(hostOf(uniqueName(10, process.hrtime.bigint(), '')), 'localhost');
  t.equal(hostOf(uniqueName(10, process.hrtime.bigint(), 'héllo')), 'h\\351llo', 'latin-1 as octal');
});

t.test('long host names are cut and tagged so the name stays within 70 and hosts stay apart', async (t) => {
  const a = 'mailstore-backend-0001.eu-west-1.compute.internal.example-hosting.net';
  const b = 'mailstore-backend-0001.eu-west-1.compute.internal.example-hosting.org';
  const big = 2 ** 52 - 1; // the longest Z field
  const na = uniqueName(big, process.hrtime.bigint(), a);
  const nb = uniqueName(big, process.hrtime.bigint(), b);
  for (const n of [na, nb]) {
    t.ok(n.length <= 70, `${n} (${n.length})`);
    t.equal(parseMaildirName(n).size, big);
  }
  t.match(hostOf(na), /-[0-9a-f]{8}$/, 'tagged with a hash of the whole host');
  t.not(hostOf(na), hostOf(nb), 'same prefix, different hosts, different host parts');
  t.equal(hostOf(uniqueName(1, process.hrtime.bigint(), a)).length > hostOf(na).length, true, 'more room, more host');
  const huge = uniqueName(1, process.hrtime.bigint(), 'x'.repeat(1000));
  t.equal(huge.length, 70);
});

t.test('names made in one process never repeat', async (t) => {
  const seen = new Set<string>();
  for (let i = 0; i < 20000; i++) seen.add(uniqueName(100, process.hrtime.bigint(), 'h'));
  t.equal(seen.size, 20000);
});
