// The one error type of the c11n reader: where (file:line:col, 1-based) and what.

/** A position in a config file; `file` is the name the user knows (`c11n`, `modules/tls.c11n`). */
export interface Pos {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

export class C11nError extends Error {
  override readonly name = 'C11nError';

  constructor(
    readonly file: string,
    readonly line: number,
    readonly col: number,
    readonly detail: string,
  ) {
    super(`${file}:${line}:${col}: ${detail}`);
  }

  static at(pos: Pos, detail: string): C11nError {
    return new C11nError(pos.file, pos.line, pos.col, detail);
  }
}

/** `c11n:3:5`, for messages that point at a second place. */
export function formatPos(pos: Pos): string {
  return `${pos.file}:${pos.line}:${pos.col}`;
}

/** A read error's reason without the path that fs appends: `ENOENT: no such file or directory`. */
export function ioReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/, \w+ '.*'$/s, '');
}
