// c11n (libconfuse syntax) tokens. Comments and whitespace are dropped here; `${ENV}` and
// `${ENV:-default}` are expanded in bare words and double-quoted strings from the env given
// (never process.env). Single-quoted strings are literal: no escapes, no expansion.
import { C11nError, type Pos } from './errors';

export type Punct = '=' | '+=' | '{' | '}' | '(' | ')' | ',' | ';';

export type Token =
  | { readonly type: 'word' | 'string'; readonly text: string; readonly at: Pos }
  | { readonly type: 'punct'; readonly text: Punct; readonly at: Pos }
  | { readonly type: 'eof'; readonly text: ''; readonly at: Pos };

const PUNCT: ReadonlySet<string> = new Set(['=', '{', '}', '(', ')', ',', ';']);
const SPACE: ReadonlySet<string> = new Set([' ', '\t', '\r', '\n', '\f', '\v', '\uFEFF']);
/** A bare word ends at any of these (and at `+=`). */
const WORD_END: ReadonlySet<string> = new Set([...PUNCT, ...SPACE, '"', "'", '#']);
const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  "'": "'",
  '\\': '\\',
  $: '$',
  n: '\n',
  t: '\t',
  r: '\r',
};
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function lex(src: string, file: string, env: NodeJS.ProcessEnv): Token[] {
  return new Lexer(src, file, env).run();
}

class Lexer {
  private i = 0;
  private line = 1;
  private col = 1;

  constructor(
    private readonly src: string,
    private readonly file: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  run(): Token[] {
    const out: Token[] = [];
    for (;;) {
      this.skipSpaceAndComments();
      const at = this.pos();
      const c = this.peek();
      if (c === '') {
        out.push({ type: 'eof', text: '', at });
        return out;
      }
      if (c === '+' && this.peek(1) === '=') {
        this.advance(2);
        out.push({ type: 'punct', text: '+=', at });
      } else if (isPunct(c)) {
        this.advance();
        out.push({ type: 'punct', text: c, at });
      } else if (c === '"') {
        out.push({ type: 'string', text: this.doubleQuoted(at), at });
      } else if (c === "'") {
        out.push({ type: 'string', text: this.singleQuoted(at), at });
      } else {
        out.push({ type: 'word', text: this.word(), at });
      }
    }
  }

  private pos(): Pos {
    return { file: this.file, line: this.line, col: this.col };
  }

  private peek(ahead = 0): string {
    return this.src[this.i + ahead] ?? '';
  }

  private advance(n = 1): string {
    let taken = '';
    for (let k = 0; k < n; k++) {
      const c = this.peek();
      if (c === '') break;
      this.i++;
      if (c === '\n') {
        this.line++;
        this.col = 1;
      } else {
        this.col++;
      }
      taken += c;
    }
    return taken;
  }

  private skipSpaceAndComments(): void {
    for (;;) {
      const c = this.peek();
      if (SPACE.has(c)) {
        this.advance();
      } else if (c === '#' || (c === '/' && this.peek(1) === '/')) {
        while (this.peek() !== '' && this.peek() !== '\n') this.advance();
      } else if (c === '/' && this.peek(1) === '*') {
        const start = this.pos();
        this.advance(2);
        while (!(this.peek() === '*' && this.peek(1) === '/')) {
          if (this.peek() === '') throw C11nError.at(start, 'unterminated comment "/*"');
          this.advance();
        }
        this.advance(2);
      } else {
        return;
      }
    }
  }

  private word(): string {
    let text = '';
    for (;;) {
      const c = this.peek();
      if (c === '' || WORD_END.has(c) || (c === '+' && this.peek(1) === '=')) return text;
      text += c === '$' && this.peek(1) === '{' ? this.expand(false) : this.advance();
    }
  }

  private doubleQuoted(start: Pos): string {
    this.advance();
    let text = '';
    for (;;) {
      const c = this.peek();
      if (c === '') throw C11nError.at(start, 'unterminated string');
      if (c === '"') {
        this.advance();
        return text;
      }
      if (c === '\\') {
        const escapeAt = this.pos();
        this.advance();
        const replacement = ESCAPES[this.peek()];
        if (replacement === undefined) {
          throw C11nError.at(escapeAt, `unknown escape "\\${this.peek()}" (use \\" \\\\ \\n \\t \\r \\$ or \\')`);
        }
        this.advance();
        text += replacement;
      } else {
        text += c === '$' && this.peek(1) === '{' ? this.expand(true) : this.advance();
      }
    }
  }

  private singleQuoted(start: Pos): string {
    this.advance();
    let text = '';
    while (this.peek() !== "'") {
      if (this.peek() === '') throw C11nError.at(start, 'unterminated string');
      text += this.advance();
    }
    this.advance();
    return text;
  }

  /** `${NAME}` or `${NAME:-default}`; the default is used when NAME is unset or empty. */
  private expand(inString: boolean): string {
    const start = this.pos();
    this.advance(2);
    let body = '';
    while (this.peek() !== '}') {
      const c = this.peek();
      if (c === '' || c === '\n' || (inString && c === '"')) {
        throw C11nError.at(start, 'unterminated "${" (missing "}")');
      }
      body += this.advance();
    }
    this.advance();
    const split = body.indexOf(':-');
    const name = split === -1 ? body : body.slice(0, split);
    if (!ENV_NAME.test(name)) throw C11nError.at(start, `invalid environment variable name "${name}"`);
    const value = this.env[name];
    if (split !== -1) return value === undefined || value === '' ? body.slice(split + 2) : value;
    if (value === undefined) throw C11nError.at(start, `environment variable "${name}" is not set`);
    return value;
  }
}

function isPunct(c: string): c is Exclude<Punct, '+='> {
  return PUNCT.has(c);
}
