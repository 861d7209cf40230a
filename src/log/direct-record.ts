/**
 * A log call's record built straight from its arguments, for pino's `hooks.logMethod`: what
 * `JSON.parse` of pino's JSON line would give, without writing and reading the JSON. Only the
 * common shapes are taken -- `(message)`, `(fields)`, `(fields, message)` with string, finite or
 * non-finite number, boolean or undefined fields -- and undefined is returned for everything
 * else (objects, errors, format arguments), which then takes pino's own JSON path, so every
 * line reads exactly as before.
 */
export type LogRecord = Record<string, unknown>;

/** `bindings`: the logger's child bindings (`{ session }`), as pino would put them first. */
export function directRecord(args: readonly unknown[], level: number, bindings: LogRecord): LogRecord | undefined {
  const [first, message, ...rest] = args;
  if (rest.length > 0) return undefined;
  if (typeof first === 'string') return message === undefined ? { level, ...bindings, msg: first } : undefined;
  if (typeof first !== 'object' || first === null || first instanceof Error) return undefined;
  if (message !== undefined && typeof message !== 'string') return undefined;
  const record: LogRecord = { level, ...bindings };
  for (const key in first) {
    if (!Object.prototype.hasOwnProperty.call(first, key)) continue;
    const value = (first as Record<string, unknown>)[key];
    switch (typeof value) {
      case 'undefined':
        continue;
      case 'string':
      case 'boolean':
        record[key] = value;
        continue;
      case 'number':
        record[key] = Number.isFinite(value) ? value : null; // as JSON has it
        continue;
      default:
        return undefined; // objects, errors, bigints: pino's serializers and JSON decide
    }
  }
  // pino takes the message from the fields when none is given; it is then kept where it was.
  if (message !== undefined) record['msg'] = message;
  else if (!('msg' in record) && 'err' in record) return undefined;
  return record;
}
