// The schema DSL: conversions, defaults, required values, typed results and every error.
import t from 'tap';
import { parseC11n } from '../../src/config/parser';
import { bool, int, list, oneOf, readDocument, section, str, titled, where, type SectionSpec } from '../../src/config/schema';
import { failure } from '../helpers/c11n';

function read<T>(schema: SectionSpec<T>, text: string): T {
  return readDocument(schema, parseC11n(text, 'c11n', { env: {}, readInclude: () => '' }));
}


const server = section({
  name: str().default('anon'),
  port: int({ min: 1, max: 65535 }).default(110),
  count: int({ min: 0 }),
  ratio: int({ max: 10 }),
  debug: bool().default(false),
  mode: oneOf(['fast', 'safe']).default('fast'),
  tags: list(str()).default(['base']),
  nums: list(int({ min: 0 })),
  even: int().check((n) => (n % 2 === 0 ? undefined : `must be even, got ${n}`)),
  limits: section({ max: int({ min: 1 }).default(5), note: str() }),
  listen: titled(section({ port: int().required(), tls: bool().default(false) })),
});

t.test('defaults when nothing is written, with inferred types', async (t) => {
  const doc = read(server, '');
  // Compile-time checks of the inferred shape.
  const port: number = doc.port;
  const count: number | undefined = doc.count;
  const mode: 'fast' | 'safe' = doc.mode;
  const tags: string[] = doc.tags;
  const max: number = doc.limits.max;
  const listenPorts: number[] = doc.listen.map((l) => l.value.port);
  t.same({ port, count, mode, tags, max, listenPorts }, { port: 110, count: undefined, mode: 'fast', tags: ['base'], max: 5, listenPorts: [] });
  t.same(doc, {
    name: 'anon', port: 110, count: undefined, ratio: undefined, debug: false, mode: 'fast', tags: ['base'],
    nums: undefined, even: undefined, limits: { max: 5, note: undefined }, listen: [],
  });
});

t.test('every kind of value', async (t) => {
  const doc = read(server, [
    'name = "r2d2" port = "995" count = 0 ratio = -3 debug = yes mode = safe',
    'tags = {a, "b c"} nums = {1, 2} even = 4',
    'limits { max = 7; note = hi }',
    'listen "pop3" { port = 110 } listen pop3s { port = 995, tls = on }',
  ].join('\n'));
  t.same(doc, {
    name: 'r2d2', port: 995, count: 0, ratio: -3, debug: true, mode: 'safe', tags: ['a', 'b c'],
    nums: [1, 2], even: 4, limits: { max: 7, note: 'hi' },
    listen: [{ title: 'pop3', value: { port: 110, tls: false } }, { title: 'pop3s', value: { port: 995, tls: true } }],
  });
});

t.test('booleans: true/false, yes/no, on/off', async (t) => {
  const flags = section({ a: bool(), b: bool(), c: bool(), d: bool(), e: bool(), f: bool() });
  t.same(read(flags, 'a = true b = false c = yes d = no e = on f = OFF'), { a: true, b: false, c: true, d: false, e: true, f: false });
});

t.test('lists: a single value, += appends to the value or the default', async (t) => {
  t.same(read(server, 'tags = one').tags, ['one']);
  t.same(read(server, 'tags += {x}\ntags += y').tags, ['base', 'x', 'y']);
  t.same(read(server, 'tags = {a}\ntags += {b, c}').tags, ['a', 'b', 'c']);
  t.same(read(server, 'nums += {3}').nums, [3]);
  t.same(read(server, 'tags = {}').tags, []);
});

t.test('where() tells where a section and its values were written', async (t) => {
  const doc = read(server, 'port = 1\n  limits {\n    max = 2\n  }\nlisten "a" { port = 3 }');
  t.same(where(doc), { file: 'c11n', line: 1, col: 1 });
  t.same(where(doc, 'port'), { file: 'c11n', line: 1, col: 8 });
  t.same(where(doc, 'limits'), { file: 'c11n', line: 2, col: 3 });
  t.same(where(doc.limits), { file: 'c11n', line: 2, col: 3 });
  t.same(where(doc.limits, 'max'), { file: 'c11n', line: 3, col: 11 });
  t.same(where(doc.listen[0]?.value ?? {}), { file: 'c11n', line: 5, col: 1 });
  t.equal(where(doc, 'count'), undefined);
});

t.test('unknown keys', async (t) => {
  t.equal(failure(() => read(server, 'port = 1\n foo = 2')), 'c11n:2:2: unknown key "foo"');
  t.equal(failure(() => read(server, 'limits {\n  max = 1\n  foo = 2\n}')), 'c11n:3:3: unknown key "foo" in section "limits"');
  t.equal(failure(() => read(server, 'listen "pop3" { port = 1, foo { } }')), 'c11n:1:27: unknown key "foo" in section "listen pop3"');
  const nested = section({ outer: section({ inner: section({ x: int() }) }) });
  t.equal(failure(() => read(nested, 'outer { inner { y = 1 } }')), 'c11n:1:17: unknown key "y" in section "outer.inner"');
});

t.test('wrong types point at the value', async (t) => {
  t.equal(failure(() => read(server, 'port = abc')), 'c11n:1:8: "port" must be an integer, got "abc"');
  t.equal(failure(() => read(server, 'port = 1.5')), 'c11n:1:8: "port" must be an integer, got "1.5"');
  t.equal(failure(() => read(server, 'port = 0x10')), 'c11n:1:8: "port" must be an integer, got "0x10"');
  t.equal(failure(() => read(server, 'port = 99999999999999999999')), 'c11n:1:8: "port" must be an integer, got "99999999999999999999"');
  t.equal(failure(() => read(server, 'port = {1}')), 'c11n:1:8: "port" must be an integer, got a list');
  t.equal(failure(() => read(server, 'name = {a}')), 'c11n:1:8: "name" must be a string, got a list');
  t.equal(failure(() => read(server, 'debug = maybe')), 'c11n:1:9: "debug" must be a boolean (true/false, yes/no, on/off), got "maybe"');
  t.equal(failure(() => read(server, 'mode = turbo')), 'c11n:1:8: "mode" must be one of fast, safe, got "turbo"');
  t.equal(failure(() => read(server, 'mode = {fast}')), 'c11n:1:8: "mode" must be one of fast, safe, got a list');
  t.equal(failure(() => read(server, 'nums = {1,\n x}')), 'c11n:2:2: "nums" must be an integer, got "x"');
  t.equal(failure(() => read(server, 'even = 3')), 'c11n:1:8: "even" must be even, got 3');
  t.equal(failure(() => read(server, 'port { }')), 'c11n:1:1: "port" is a value, not a section: write port = ...');
  t.equal(failure(() => read(server, 'limits = 5')), 'c11n:1:1: "limits" is a section: write limits { ... }');
  t.equal(failure(() => read(server, 'listen = 5')), 'c11n:1:1: "listen" is a section: write listen "name" { ... }');
  t.equal(failure(() => read(server, 'port += {1}')), 'c11n:1:1: cannot append to "port": it is not a list');
});

t.test('out of range', async (t) => {
  t.equal(failure(() => read(server, 'port = 0')), 'c11n:1:8: "port" must be between 1 and 65535, got 0');
  t.equal(failure(() => read(server, 'port = 65536')), 'c11n:1:8: "port" must be between 1 and 65535, got 65536');
  t.equal(failure(() => read(server, 'count = -1')), 'c11n:1:9: "count" must be at least 0, got -1');
  t.equal(failure(() => read(server, 'ratio = 11')), 'c11n:1:9: "ratio" must be at most 10, got 11');
  t.equal(failure(() => read(server, 'nums = {0, -1}')), 'c11n:1:12: "nums" must be at least 0, got -1');
  t.equal(read(server, 'port = 65535').port, 65535);
  t.equal(read(server, 'port = 1').port, 1);
});

t.test('missing required values and sections', async (t) => {
  t.equal(failure(() => read(server, 'listen "a" {\n}')), 'c11n:1:1: missing required "port" in section "listen a"');
  t.equal(failure(() => read(server, '\n\n  listen "a" { tls = no }')), 'c11n:3:3: missing required "port" in section "listen a"');
  const top = section({ query: str().required(), db: section({ host: str().required() }) });
  t.equal(failure(() => read(top, '\n\ndb { host = h }')), 'c11n:1:1: missing required "query"');
  t.equal(failure(() => read(top, 'query = q\ndb {\n}')), 'c11n:2:1: missing required "host" in section "db"');
  t.equal(failure(() => read(top, 'query = q')), 'c11n:1:1: missing required "host" in section "db"');
  const needs = section({ tls: section({ cert: str() }).required(), many: titled(section({}), { min: 2 }) });
  t.equal(failure(() => read(needs, 'many "a" {}')), 'c11n:1:1: missing required section "tls"');
  t.equal(failure(() => read(needs, 'tls {}\nmany "a" {}')), 'c11n:1:1: at least 2 "many" sections are required');
  t.same(read(needs, 'tls {} many a {} many b {}'), { tls: { cert: undefined }, many: [{ title: 'a', value: {} }, { title: 'b', value: {} }] });
  const one = section({ listen: titled(section({}), { min: 1 }) });
  t.equal(failure(() => read(one, '')), 'c11n:1:1: at least one "listen" section is required');
});

t.test('keys and sections given twice, duplicate titles, titles where none or one belongs', async (t) => {
  t.equal(failure(() => read(server, 'port = 1\nport = 2')), 'c11n:2:1: duplicate key "port" (first set at c11n:1:1)');
  t.equal(failure(() => read(server, 'tags += {a}\n tags = {b}')), 'c11n:2:2: duplicate key "tags" (first set at c11n:1:1)');
  t.equal(failure(() => read(server, 'limits { max = 1 }\nlimits { note = x }')), 'c11n:2:1: duplicate key "limits" (first set at c11n:1:1)');
  t.equal(failure(() => read(server, 'limits { max = 1 max = 2 }')), 'c11n:1:18: duplicate key "max" (first set at c11n:1:10)');
  t.equal(failure(() => read(server, 'listen "a" { port = 1 }\n  listen a { port = 2 }')), 'c11n:2:3: duplicate section "listen a" (first at c11n:1:1)');
  t.equal(failure(() => read(server, 'listen { port = 1 }')), 'c11n:1:1: section "listen" needs a title: listen "name" { ... }');
  t.equal(failure(() => read(server, 'limits "x" { }')), 'c11n:1:8: section "limits" takes no title');
});
