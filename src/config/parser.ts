// c11n tokens -> AST. Entries are `key = value`, `key += value`, `key { ... }`,
// `key "title" { ... }` and `include(file)`, separated by whitespace, `;` or `,`.
// An include is spliced in where it stands, its positions naming the included file.
import path from 'node:path';
import type { Entry, List, Scalar, Section, Value } from './ast';
import { C11nError, ioReason, type Pos } from './errors';
import { lex, type Punct, type Token } from './lexer';

export interface ParseOptions {
  readonly env: NodeJS.ProcessEnv;
  /** Reads an included file by its name relative to the personality folder. */
  readonly readInclude: (name: string) => string;
}

const KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Parses a whole file; the root section has key '' and sits at `file:1:1`. */
export function parseC11n(text: string, file: string, options: ParseOptions): Section {
  const entries = parseFile(text, file, options, [file]);
  return { kind: 'section', key: '', title: undefined, entries, at: { file, line: 1, col: 1 } };
}

function parseFile(text: string, file: string, options: ParseOptions, stack: readonly string[]): Entry[] {
  return new Parser(lex(text, file, options.env), options, stack).body(undefined);
}

type PunctToken = Extract<Token, { type: 'punct' }>;

function isPunct<P extends Punct>(t: Token, p: P): t is PunctToken & { readonly text: P } {
  return t.type === 'punct' && t.text === p;
}

function describe(t: Token): string {
  return t.type === 'eof' ? 'end of file' : JSON.stringify(t.text);
}

function scalar(t: Token & { readonly type: 'word' | 'string' }): Scalar {
  return { kind: 'scalar', text: t.text, quoted: t.type === 'string', at: t.at };
}

function isText(t: Token): t is Token & { readonly type: 'word' | 'string' } {
  return t.type === 'word' || t.type === 'string';
}

class Parser {
  private i = 0;

  constructor(
    private readonly tokens: readonly Token[],
    private readonly options: ParseOptions,
    private readonly stack: readonly string[],
  ) {}

  private peek(ahead = 0): Token {
    const last = this.tokens[this.tokens.length - 1];
    const t = this.tokens[this.i + ahead] ?? last;
    if (t === undefined) throw new Error('c11n lexer returned no tokens');
    return t;
  }

  private next(): Token {
    const t = this.peek();
    if (t.type !== 'eof') this.i++;
    return t;
  }

  /** Entries up to the `}` closing `open`, or to the end of the file at top level. */
  body(open: { readonly key: string; readonly at: Pos } | undefined): Entry[] {
    const out: Entry[] = [];
    for (;;) {
      const t = this.next();
      if (isPunct(t, ';') || isPunct(t, ',')) continue;
      if (t.type === 'eof') {
        if (open !== undefined) throw C11nError.at(open.at, `section "${open.key}" is not closed (missing "}")`);
        return out;
      }
      if (isPunct(t, '}')) {
        if (open !== undefined) return out;
        throw C11nError.at(t.at, 'unexpected "}"');
      }
      if (t.type !== 'word' || !KEY.test(t.text)) throw C11nError.at(t.at, `expected a key, got ${describe(t)}`);
      this.entry(t, out);
    }
  }

  private entry(key: Token, out: Entry[]): void {
    const n = this.peek();
    if (key.text === 'include' && isPunct(n, '(')) {
      this.next();
      out.push(...this.include(key));
    } else if (isPunct(n, '=') || isPunct(n, '+=')) {
      this.next();
      out.push({ kind: 'assign', key: key.text, op: n.text, value: this.value(key), at: key.at });
    } else if (isPunct(n, '{')) {
      this.next();
      out.push(this.section(key, undefined));
    } else if (isText(n) && isPunct(this.peek(1), '{')) {
      this.next();
      this.next();
      out.push(this.section(key, scalar(n)));
    } else {
      throw C11nError.at(n.at, `expected "=" or "{" after "${key.text}", got ${describe(n)}`);
    }
  }

  private section(key: Token, title: Scalar | undefined): Section {
    const entries = this.body({ key: key.text, at: key.at });
    return { kind: 'section', key: key.text, title, entries, at: key.at };
  }

  private value(key: Token): Value {
    const t = this.next();
    if (isText(t)) return scalar(t);
    if (isPunct(t, '{')) return this.list(t);
    throw C11nError.at(t.at, `missing value for "${key.text}", got ${describe(t)}`);
  }

  /** After `{`: `}` or items separated by `,`; a trailing `,` is allowed. */
  private list(open: Token): List {
    const items: Scalar[] = [];
    if (isPunct(this.peek(), '}')) {
      this.next();
      return { kind: 'list', items, at: open.at };
    }
    for (;;) {
      const item = this.next();
      if (item.type === 'eof') throw C11nError.at(open.at, 'list is not closed (missing "}")');
      if (!isText(item)) throw C11nError.at(item.at, `expected a list item, got ${describe(item)}`);
      items.push(scalar(item));
      const sep = this.next();
      if (isPunct(sep, '}')) break;
      if (sep.type === 'eof') throw C11nError.at(open.at, 'list is not closed (missing "}")');
      if (!isPunct(sep, ',')) throw C11nError.at(sep.at, `expected "," or "}" in a list, got ${describe(sep)}`);
      if (isPunct(this.peek(), '}')) {
        this.next();
        break;
      }
    }
    return { kind: 'list', items, at: open.at };
  }

  /** After `include(`: the file name, `)`, then the included file's entries. */
  private include(key: Token): Entry[] {
    const arg = this.next();
    if (!isText(arg) || arg.text === '') throw C11nError.at(arg.at, `include needs a file name, got ${describe(arg)}`);
    const close = this.next();
    if (!isPunct(close, ')')) throw C11nError.at(close.at, `expected ")" after the include file name, got ${describe(close)}`);
    const name = path.posix.normalize(arg.text);
    if (this.stack.includes(name)) {
      throw C11nError.at(key.at, `include cycle: ${[...this.stack, name].join(' -> ')}`);
    }
    let text: string;
    try {
      text = this.options.readInclude(name);
    } catch (err: unknown) {
      throw C11nError.at(arg.at, `cannot read include "${name}": ${ioReason(err)}`);
    }
    return parseFile(text, name, this.options, [...this.stack, name]);
  }
}
