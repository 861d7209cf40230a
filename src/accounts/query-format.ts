import type { LoginRequest } from './accounts';

/** The substitutions of maildrop_query_format_string (and %h %o of rehash_query_format_string). */
export type Substitution = 'u' | 'l' | 'd' | 'p' | 'r' | 'h' | 'o';

export interface CompiledQuery {
  /** The SQL with a `?` placeholder for each substitution. */
  readonly sql: string;
  readonly params: readonly Substitution[];
}

const TOKEN = /(['"]?)%([uldprho%])\1/g;

/**
 * Compiles the configured query into a prepared statement: each %x (or a quoted '%x', as
 * printf-style configs write it) becomes one bound parameter, so no login can change the
 * SQL. `%%` is a literal percent. The config loader has already rejected unknown letters.
 */
export function compileQuery(format: string): CompiledQuery {
  const params: Substitution[] = [];
  const sql = format.replace(TOKEN, (_match: string, quote: string, letter: string) => {
    if (letter === '%') return quote + '%' + quote;
    params.push(letter as Substitution);
    return '?';
  });
  return { sql, params };
}

/** The values of %h (a new hash) and %o (the value it replaces), for the rehash query. */
export interface RehashValues {
  readonly newHash: string;
  readonly oldValue: string;
}

export function bindParams(query: CompiledQuery, request: LoginRequest, rehash?: RehashValues): string[] {
  const at = request.user.lastIndexOf('@');
  const local = at === -1 ? request.user : request.user.slice(0, at);
  const domain = at === -1 ? '' : request.user.slice(at + 1);
  const values: Record<Substitution, string> = {
    u: request.user,
    l: local,
    d: domain,
    p: request.password,
    r: request.peer,
    h: rehash?.newHash ?? '',
    o: rehash?.oldValue ?? '',
  };
  return query.params.map((p) => values[p]);
}
