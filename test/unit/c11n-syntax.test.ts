// The c11n lexer and parser: every syntax form, every syntax error, with exact positions.
import t from 'tap';
import type { Entry, Section, Value } from '../../src/config/ast';
import { C11nError } from '../../src/config/errors';
import { parseC11n } from '../../src/config/parser';
import { failure } from '../helpers/c11n';

type Files = Readonly<Record<string, string>>;

function parse(text: string, env: NodeJS.ProcessEnv = {}, files: Files = {}): Section {
  return parseC11n(text, 'c11n', {
    env,
    readInclude: (name) => {
      const body = files[name];
      if (body === undefined) throw new Error(`ENOENT: no such file or directory, open '/p/${name}'`);
      return body;
    },
  });
}

/** Entries as compact strings, positions included: `port@2:3 = word(110)@2:10`. */
function show(entries: readonly Entry[]): unknown[] {
  return entries.map((e) => {
    const at = `${e.at.file === 'c11n' ? '' : e.at.file + ':'}${e.at.line}:${e.at.col}`;
    if (e.kind === 'assign') return `${e.key}@${at} ${e.op} ${value(e.value)}`;
    const title = e.title === undefined ? '' : ` ${value(e.title)}`;
    return [`${e.key}@${at}${title}`, show(e.entries)];
  });
}

function value(v: Value): string {
  if (v.kind === 'list') return `[${v.items.map(value).join(', ')}]@${v.at.line}:${v.at.col}`;
  return `${v.quoted ? 'str' : 'word'}(${v.text})@${v.at.line}:${v.at.col}`;
}


t.test('C11nError carries file, line, col and detail', async (t) => {
  const err = new C11nError('modules/tls.c11n', 3, 7, 'oops');
  t.equal(err.message, 'modules/tls.c11n:3:7: oops');
  t.same([err.file, err.line, err.col, err.detail, err.name], ['modules/tls.c11n', 3, 7, 'oops', 'C11nError']);
  t.ok(err instanceof Error);
});

t.test('bare words, integers and key = value', async (t) => {
  const root = parse('driver = mysql\nroot=/var/mail\n  address = 0.0.0.0\nidentity = server.pop3.r2d2\nn = -5 m = 42');
  t.same(show(root.entries), [
    'driver@1:1 = word(mysql)@1:10',
    'root@2:1 = word(/var/mail)@2:6',
    'address@3:3 = word(0.0.0.0)@3:13',
    'identity@4:1 = word(server.pop3.r2d2)@4:12',
    'n@5:1 = word(-5)@5:5',
    'm@5:8 = word(42)@5:12',
  ]);
  t.same(root.at, { file: 'c11n', line: 1, col: 1 });
});

t.test('double-quoted strings with escapes, single-quoted strings literal', async (t) => {
  const root = parse(String.raw`a = "say \"hi\" \\ x\ny\tz\r\$"` + '\n' + "b = 'no \\n ${X} \"escapes\"'" + '\nc = ""');
  t.same(show(root.entries), [
    'a@1:1 = str(say "hi" \\ x\ny\tz\r$)@1:5',
    'b@2:1 = str(no \\n ${X} "escapes")@2:5',
    'c@3:1 = str()@3:5',
  ]);
});

t.test('a double-quoted string may span lines; positions after it stay right', async (t) => {
  const root = parse('q = "SELECT 1\n  FROM t" x = 1');
  t.same(show(root.entries), ['q@1:1 = str(SELECT 1\n  FROM t)@1:5', 'x@2:11 = word(1)@2:15']);
});

t.test('lists and +=', async (t) => {
  const root = parse('a = {x, y, "z w"}\nb = {}\nc = {\n  1,\n  2,\n}\na += {v}\na += u\nd+={k}');
  t.same(show(root.entries), [
    'a@1:1 = [word(x)@1:6, word(y)@1:9, str(z w)@1:12]@1:5',
    'b@2:1 = []@2:5',
    'c@3:1 = [word(1)@4:3, word(2)@5:3]@3:5',
    'a@7:1 += [word(v)@7:7]@7:6',
    'a@8:1 += word(u)@8:6',
    'd@9:1 += [word(k)@9:5]@9:4',
  ]);
});

t.test('sections, titled sections (quoted or bare title), nested', async (t) => {
  const root = parse('limits { max = 1 }\nlisten "pop3" {\n  port = 110\n}\ndatabase accounts{inner { x = 1 }}');
  t.same(show(root.entries), [
    ['limits@1:1', ['max@1:10 = word(1)@1:16']],
    ['listen@2:1 str(pop3)@2:8', ['port@3:3 = word(110)@3:10']],
    ['database@5:1 word(accounts)@5:10', [['inner@5:19', ['x@5:27 = word(1)@5:31']]]],
  ]);
});

t.test('comments: #, // and /* */, anywhere between tokens', async (t) => {
  const text = '# head\na = 1 # tail\n// line\nb = 2 // tail\n/* block\n  spans */ c = /* inline */ 3\nd = /x//y';
  t.same(show(parse(text).entries), [
    'a@2:1 = word(1)@2:5',
    'b@4:1 = word(2)@4:5',
    'c@6:12 = word(3)@6:29',
    'd@7:1 = word(/x//y)@7:5',
  ]);
  t.same(show(parse('s = "a # not // a /* comment"').entries), ['s@1:1 = str(a # not // a /* comment)@1:5']);
});

t.test('entries separated by newlines, spaces, ; or ,', async (t) => {
  t.same(show(parse('a = 1; b = 2, c = 3 d = 4;;\n,e { f = 5; g = 6 }').entries), [
    'a@1:1 = word(1)@1:5',
    'b@1:8 = word(2)@1:12',
    'c@1:15 = word(3)@1:19',
    'd@1:21 = word(4)@1:25',
    ['e@2:2', ['f@2:6 = word(5)@2:10', 'g@2:13 = word(6)@2:17']],
  ]);
});

t.test('CRLF line endings and a byte order mark', async (t) => {
  t.same(show(parse('\uFEFFa = 1\r\nb = "x"\r\n').entries), ['a@1:2 = word(1)@1:6', 'b@2:1 = str(x)@2:5']);
});

t.test('${ENV} and ${ENV:-default} in bare words and double-quoted strings', async (t) => {
  const env = { ROOT: '/srv', PW: 'p"w d', EMPTY: '' };
  const root = parse('a = ${ROOT}/mail\nb = "x${PW}y"\nc = ${NOPE:-127.0.0.1}\nd = "${EMPTY:-fallback}"\ne = ${ROOT:-unused}\nf = ${NOPE:-a b}', env);
  t.same(show(root.entries), [
    'a@1:1 = word(/srv/mail)@1:5',
    'b@2:1 = str(xp"w dy)@2:5',
    'c@3:1 = word(127.0.0.1)@3:5',
    'd@4:1 = str(fallback)@4:5',
    'e@5:1 = word(/srv)@5:5',
    'f@6:1 = word(a b)@6:5',
  ]);
  t.same(show(parse('g = ${EMPTY} h = "$HOME costs $5"', env).entries), ['g@1:1 = word()@1:5', 'h@1:14 = str($HOME costs $5)@1:18']);
});

t.test('environment errors point at the ${', async (t) => {
  t.equal(failure(() => parse('a = 1\nroot = /x/${NOPE}/y')), 'c11n:2:11: environment variable "NOPE" is not set');
  t.equal(failure(() => parse('pw = "ab${SECRET}"')), 'c11n:1:9: environment variable "SECRET" is not set');
  t.equal(failure(() => parse('a = ${1X}')), 'c11n:1:5: invalid environment variable name "1X"');
  t.equal(failure(() => parse('a = ${A B}')), 'c11n:1:5: invalid environment variable name "A B"');
  t.equal(failure(() => parse('a = ${OPEN\nb = 1')), 'c11n:1:5: unterminated "${" (missing "}")');
  t.equal(failure(() => parse('a = "${OPEN"')), 'c11n:1:6: unterminated "${" (missing "}")');
});

t.test('lexical errors', async (t) => {
  t.equal(failure(() => parse('a = 1\n  /* never closed\nb = 2')), 'c11n:2:3: unterminated comment "/*"');
  t.equal(failure(() => parse('a = 1\nb = "abc\nc = 2')), 'c11n:2:5: unterminated string');
  t.equal(failure(() => parse("a = 'abc")), 'c11n:1:5: unterminated string');
  t.equal(failure(() => parse(String.raw`a = "x\qy"`)), String.raw`c11n:1:7: unknown escape "\q" (use \" \\ \n \t \r \$ or \')`);
});

t.test('syntax errors', async (t) => {
  t.equal(failure(() => parse('= 5')), 'c11n:1:1: expected a key, got "="');
  t.equal(failure(() => parse('"port" = 5')), 'c11n:1:1: expected a key, got "port"');
  t.equal(failure(() => parse('a = 1\nport 110\n')), 'c11n:2:6: expected "=" or "{" after "port", got "110"');
  t.equal(failure(() => parse('port')), 'c11n:1:5: expected "=" or "{" after "port", got end of file');
  t.equal(failure(() => parse('a = }')), 'c11n:1:5: missing value for "a", got "}"');
  t.equal(failure(() => parse('a =')), 'c11n:1:4: missing value for "a", got end of file');
  t.equal(failure(() => parse('a = 1 }')), 'c11n:1:7: unexpected "}"');
  t.equal(failure(() => parse('x = 1\n  limits {\n  max = 1\n')), 'c11n:2:3: section "limits" is not closed (missing "}")');
  t.equal(failure(() => parse('a = {x, y')), 'c11n:1:5: list is not closed (missing "}")');
  t.equal(failure(() => parse('a = {x,')), 'c11n:1:5: list is not closed (missing "}")');
  t.equal(failure(() => parse('a = {x y}')), 'c11n:1:8: expected "," or "}" in a list, got "y"');
  t.equal(failure(() => parse('a = {x, {y}}')), 'c11n:1:9: expected a list item, got "{"');
  t.equal(failure(() => parse('a = {,}')), 'c11n:1:6: expected a list item, got ","');
});

t.test('include, quoted or bare, at any level, positions in the included file', async (t) => {
  const files = {
    'modules/db.c11n': 'host = h\nport = 1',
    'modules/tls.c11n': '\n  cert = "/etc/c.pem"\n  include(modules/deeper.c11n)',
    'modules/deeper.c11n': 'key = k',
  };
  const root = parse('a = 1\ninclude("modules/tls.c11n")\ndb {\n  include(./modules/db.c11n) x = 2\n}', {}, files);
  t.same(show(root.entries), [
    'a@1:1 = word(1)@1:5',
    'cert@modules/tls.c11n:2:3 = str(/etc/c.pem)@2:10',
    'key@modules/deeper.c11n:1:1 = word(k)@1:7',
    ['db@3:1', ['host@modules/db.c11n:1:1 = word(h)@1:8', 'port@modules/db.c11n:2:1 = word(1)@2:8', 'x@4:30 = word(2)@4:34']],
  ]);
  const title = root.entries[1];
  t.equal(title?.kind === 'assign' && title.value.at.file, 'modules/tls.c11n');
  t.same(show(parse('include = 5').entries), ['include@1:1 = word(5)@1:11'], 'include is an ordinary key without (');
});

t.test('include errors', async (t) => {
  const files = {
    'modules/a.c11n': 'x = 1\ninclude("modules/b.c11n")',
    'modules/b.c11n': 'include(modules/a.c11n)',
    'modules/self.c11n': '  include(c11n)',
    'modules/bad.c11n': 'ok = 1\n  port 110',
    'modules/env.c11n': 'pw = ${PW}',
  };
  t.equal(failure(() => parse('include("modules/a.c11n")', {}, files)), 'modules/b.c11n:1:1: include cycle: c11n -> modules/a.c11n -> modules/b.c11n -> modules/a.c11n');
  t.equal(failure(() => parse('include(modules/self.c11n)', {}, files)), 'modules/self.c11n:1:3: include cycle: c11n -> modules/self.c11n -> c11n');
  t.equal(failure(() => parse('a = 1\ninclude(modules/bad.c11n)', {}, files)), 'modules/bad.c11n:2:8: expected "=" or "{" after "port", got "110"');
  t.equal(failure(() => parse('include(modules/env.c11n)', {}, files)), 'modules/env.c11n:1:6: environment variable "PW" is not set');
  t.equal(failure(() => parse('a = 1\n include("modules/none.c11n")', {}, files)), 'c11n:2:10: cannot read include "modules/none.c11n": ENOENT: no such file or directory');
  t.equal(failure(() => parse('include()', {}, files)), 'c11n:1:9: include needs a file name, got ")"');
  t.equal(failure(() => parse('include("")', {}, files)), 'c11n:1:9: include needs a file name, got ""');
  t.equal(failure(() => parse('include("modules/a.c11n" x', {}, files)), 'c11n:1:26: expected ")" after the include file name, got "x"');
});
