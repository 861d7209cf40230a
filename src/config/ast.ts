// The syntax tree of a c11n file: every entry and value knows where it was written.
import type { Pos } from './errors';

export type { Pos } from './errors';

/** A bare word or a quoted string, `${ENV}` already expanded. */
export interface Scalar {
  readonly kind: 'scalar';
  readonly text: string;
  readonly quoted: boolean;
  readonly at: Pos;
}

/** `{a, b, "c"}`; `at` is the `{`. */
export interface List {
  readonly kind: 'list';
  readonly items: readonly Scalar[];
  readonly at: Pos;
}

export type Value = Scalar | List;

/** `key = value` or `key += value`; `at` is the key. */
export interface Assign {
  readonly kind: 'assign';
  readonly key: string;
  readonly op: '=' | '+=';
  readonly value: Value;
  readonly at: Pos;
}

/** `key { ... }` or `key "title" { ... }`; `at` is the key. The document root has key ''. */
export interface Section {
  readonly kind: 'section';
  readonly key: string;
  readonly title: Scalar | undefined;
  readonly entries: readonly Entry[];
  readonly at: Pos;
}

export type Entry = Assign | Section;
