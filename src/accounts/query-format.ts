import type { LoginRequest } from './accounts';

/** The substitutions of maildrop_query_format_string. */
export type Substitution = 'u' | 'l' | 'd' | 'p' | 'r';

export interface CompiledQuery {
  /** The SQL with a `?` placeholder for each substitution. */
  readonly sql: string;
  readonly params: readonly Substitution[];
}

const TOKEN = /(['"]?)%([uldpr%])\1/g;

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

export function bindParams(query: CompiledQuery, request: LoginRequest): string[] {
  const at = request.user.lastIndexOf('@');
  const local = at === -1 ? request.user : request.user.slice(0, at);
  const domain = at === -1 ? '' : request.user.slice(at + 1);
  const values: Record<Substitution, string> = {
    u: request.user,
    l: local,
    d: domain,
    p: request.password,
    r: request.peer,
  };
  return query.params.map((p) => values[p]);
}
