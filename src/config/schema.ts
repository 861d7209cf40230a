import path from 'node:path';
// A small schema DSL: declares what a c11n section may hold, validates an AST against it and
// returns plain typed data (types inferred from the schema). Every error is a C11nError at
// the offending entry: unknown and duplicate keys at the key, bad values at the value.
//
//   const listen = section({ port: int({ min: 1, max: 65535 }).required(), tls: oneOf(['none', 'stls']).default('none') });
//   const schema = section({ listen: titled(listen, { min: 1 }), threads: int({ min: 0 }).default(0) });
//   const doc = readDocument(schema, root); // { listen: { title: string; value: { port: number; tls: 'none' | 'stls' } }[]; threads: number }
import type { Entry, Scalar, Section, Value } from './ast';
import { C11nError, formatPos, type Pos } from './errors';

/** Where a section is, for messages: its label (`limits`, `listen pop3`; none at top level) and header. */
export interface Scope {
  readonly label: string | undefined;
  readonly at: Pos;
}

/** One key of a section: reads every entry written under that key (none when absent). */
export interface Field<T> {
  read(entries: readonly Entry[], key: string, scope: Scope): T;
}

/** Turns a value into T, or throws at the value's position. */
export interface Conv<T> {
  convert(value: Value, key: string): T;
  /** Lists only: `key += more` appends to the value so far (or the default). */
  append?(base: T | undefined, more: T): T;
}

/** A value key, optional until `.default(v)` or `.required()`. */
export interface Opt<T> extends Field<T | undefined> {
  readonly conv: Conv<T>;
  default(value: T): Field<T>;
  required(): Field<T>;
  /** `fn` returns what is wrong (`must be ...`), said after the key's name, or undefined. */
  check(fn: (value: T) => string | undefined): Opt<T>;
}

export type Shape = Readonly<Record<string, Field<unknown>>>;
export type Infer<S extends Shape> = { [K in keyof S]: S[K] extends Field<infer T> ? T : never };

export interface Titled<T> {
  readonly title: string;
  readonly value: T;
}

export interface SectionSpec<T> extends Field<T> {
  /** Validates a section's entries; an absent section reads as empty (its defaults). */
  body(node: { readonly entries: readonly Entry[]; readonly at: Pos }, label: string | undefined): T;
  required(): Field<T>;
}

const places = new WeakMap<object, { readonly at: Pos; readonly keys: ReadonlyMap<string, Pos> }>();

/** Where a section read by this schema was written, or where `key` was set in it. */
export function where(section: object, key?: string): Pos | undefined {
  const place = places.get(section);
  return key === undefined ? place?.at : place?.keys.get(key);
}

/** Where `key` was set in a section (or the section itself): for errors found after reading. */
export function here(section: object, key?: string): Pos {
  const at = where(section, key) ?? where(section);
  if (at === undefined) throw new Error('c11n: no position recorded for a schema section');
  return at;
}

/** A check for keys that name a file by its absolute path. */
export const absolutePath = (p: string): string | undefined =>
  path.isAbsolute(p) ? undefined : `must be an absolute path, got ${JSON.stringify(p)}`;

export function readDocument<T>(schema: SectionSpec<T>, root: Section): T {
  return schema.body(root, undefined);
}

function fail(at: Pos, detail: string): C11nError {
  return C11nError.at(at, detail);
}

function inSection(scope: Scope): string {
  return scope.label === undefined ? '' : ` in section "${scope.label}"`;
}

function childLabel(parent: string | undefined, key: string, title?: string): string {
  const own = title === undefined ? key : `${key} ${title}`;
  return parent === undefined ? own : `${parent}.${own}`;
}

function duplicate(key: string, first: Pos): string {
  return `duplicate key "${key}" (first set at ${formatPos(first)})`;
}

/** The value of a value key: one `=`, then any number of `+=` (lists only). */
function readValue<T>(conv: Conv<T>, entries: readonly Entry[], key: string, base: T | undefined): T | undefined {
  let value: T | undefined;
  let first: Pos | undefined;
  for (const e of entries) {
    if (e.kind === 'section') throw fail(e.at, `"${key}" is a value, not a section: write ${key} = ...`);
    if (e.op === '=') {
      if (first !== undefined) throw fail(e.at, duplicate(key, first));
      value = conv.convert(e.value, key);
    } else {
      if (conv.append === undefined) throw fail(e.at, `cannot append to "${key}": it is not a list`);
      value = conv.append(first === undefined ? base : value, conv.convert(e.value, key));
    }
    first ??= e.at;
  }
  return value;
}

function opt<T>(conv: Conv<T>): Opt<T> {
  return {
    conv,
    read: (entries, key) => readValue(conv, entries, key, undefined),
    default: (fallback) => ({
      read: (entries, key) => readValue(conv, entries, key, fallback) ?? fallback,
    }),
    required: () => ({
      read: (entries, key, scope) => {
        const value = readValue(conv, entries, key, undefined);
        if (value === undefined) throw fail(scope.at, `missing required "${key}"${inSection(scope)}`);
        return value;
      },
    }),
    check: (fn) =>
      opt<T>({
        convert: (v, key) => {
          const value = conv.convert(v, key);
          const wrong = fn(value);
          if (wrong !== undefined) throw fail(v.at, `"${key}" ${wrong}`);
          return value;
        },
        ...(conv.append === undefined ? {} : { append: conv.append }),
      }),
  };
}

/** A scalar converter: a list given instead is an error. */
function scalarConv<T>(what: string, parse: (s: Scalar, key: string) => T): Conv<T> {
  return {
    convert: (v, key) => {
      if (v.kind === 'list') throw fail(v.at, `"${key}" must be ${what}, got a list`);
      return parse(v, key);
    },
  };
}

export function str(): Opt<string> {
  return opt(scalarConv('a string', (s) => s.text));
}

export function int(range: { readonly min?: number; readonly max?: number } = {}): Opt<number> {
  const { min, max } = range;
  return opt(
    scalarConv('an integer', (s, key) => {
      const n = Number(s.text);
      if (!/^-?[0-9]+$/.test(s.text) || !Number.isSafeInteger(n)) {
        throw fail(s.at, `"${key}" must be an integer, got ${JSON.stringify(s.text)}`);
      }
      const low = min !== undefined && n < min;
      const high = max !== undefined && n > max;
      if (!low && !high) return n;
      const want = min === undefined ? `at most ${max}` : max === undefined ? `at least ${min}` : `between ${min} and ${max}`;
      throw fail(s.at, `"${key}" must be ${want}, got ${n}`);
    }),
  );
}

const TRUE = new Set(['true', 'yes', 'on']);
const FALSE = new Set(['false', 'no', 'off']);

export function bool(): Opt<boolean> {
  return opt(
    scalarConv('a boolean', (s, key) => {
      const word = s.text.toLowerCase();
      if (TRUE.has(word)) return true;
      if (FALSE.has(word)) return false;
      throw fail(s.at, `"${key}" must be a boolean (true/false, yes/no, on/off), got ${JSON.stringify(s.text)}`);
    }),
  );
}

export function oneOf<const V extends readonly string[]>(values: V): Opt<V[number]> {
  const allowed: ReadonlySet<string> = new Set(values);
  const isAllowed = (text: string): text is V[number] => allowed.has(text);
  return opt(
    scalarConv(`one of ${values.join(', ')}`, (s, key) => {
      if (isAllowed(s.text)) return s.text;
      throw fail(s.at, `"${key}" must be one of ${values.join(', ')}, got ${JSON.stringify(s.text)}`);
    }),
  );
}

/** `key = {a, b}` (a single value is a one-item list); `key += {c}` appends. */
export function list<T>(item: Opt<T>): Opt<T[]> {
  return opt<T[]>({
    convert: (v, key) => (v.kind === 'list' ? v.items : [v]).map((s) => item.conv.convert(s, key)),
    append: (base, more) => [...(base ?? []), ...more],
  });
}

export function section<S extends Shape>(shape: S): SectionSpec<Infer<S>> {
  const body = (node: { readonly entries: readonly Entry[]; readonly at: Pos }, label: string | undefined): Infer<S> => {
    const scope: Scope = { label, at: node.at };
    const groups = new Map<string, Entry[]>();
    for (const e of node.entries) {
      if (!Object.hasOwn(shape, e.key)) throw fail(e.at, `unknown key "${e.key}"${inSection(scope)}`);
      const group = groups.get(e.key);
      if (group === undefined) groups.set(e.key, [e]);
      else group.push(e);
    }
    const out: Record<string, unknown> = {};
    const keys = new Map<string, Pos>();
    for (const [key, field] of Object.entries(shape)) {
      const entries = groups.get(key) ?? [];
      const first = entries[0];
      if (first !== undefined) keys.set(key, first.kind === 'assign' ? first.value.at : first.at);
      out[key] = field.read(entries, key, scope);
    }
    places.set(out, { at: node.at, keys });
    // Each key of `shape` was set above from its own field, so `out` has the inferred shape.
    return out as Infer<S>;
  };
  const read = (entries: readonly Entry[], key: string, scope: Scope): Infer<S> | undefined => {
    const [node, again] = entries;
    if (again !== undefined) throw fail(again.at, duplicate(key, node?.at ?? again.at));
    if (node === undefined) return undefined;
    if (node.kind !== 'section') throw fail(node.at, `"${key}" is a section: write ${key} { ... }`);
    if (node.title !== undefined) throw fail(node.title.at, `section "${key}" takes no title`);
    return body(node, childLabel(scope.label, key));
  };
  return {
    body,
    read: (entries, key, scope) =>
      read(entries, key, scope) ?? body({ entries: [], at: scope.at }, childLabel(scope.label, key)),
    required: () => ({
      read: (entries, key, scope) => {
        const value = read(entries, key, scope);
        if (value === undefined) throw fail(scope.at, `missing required section "${key}"${inSection(scope)}`);
        return value;
      },
    }),
  };
}

/** Repeatable `key "title" { ... }` sections, in file order; titles must differ. */
export function titled<T>(spec: SectionSpec<T>, options: { readonly min?: number } = {}): Field<Titled<T>[]> {
  const min = options.min ?? 0;
  return {
    read: (entries, key, scope) => {
      const seen = new Map<string, Pos>();
      const out: Titled<T>[] = [];
      for (const e of entries) {
        if (e.kind !== 'section') throw fail(e.at, `"${key}" is a section: write ${key} "name" { ... }`);
        if (e.title === undefined) throw fail(e.at, `section "${key}" needs a title: ${key} "name" { ... }`);
        const title = e.title.text;
        const label = childLabel(scope.label, key, title);
        const first = seen.get(title);
        if (first !== undefined) throw fail(e.at, `duplicate section "${label}" (first at ${formatPos(first)})`);
        seen.set(title, e.at);
        out.push({ title, value: spec.body(e, label) });
      }
      if (out.length < min) {
        const what = min === 1 ? `at least one "${key}" section is` : `at least ${min} "${key}" sections are`;
        throw fail(scope.at, `${what} required${inSection(scope)}`);
      }
      return out;
    },
  };
}
