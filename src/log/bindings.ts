import type { Logger } from 'pino';

/**
 * A logger's child bindings (`{ session }`), read once per logger: pino's bindings() parses them
 * from its JSON fragment on every call. Loggers never change their bindings here (no setBindings).
 */
const boundFields = new WeakMap<Logger, Readonly<Record<string, unknown>>>();

export function bindingsOf(logger: Logger): Readonly<Record<string, unknown>> {
  let fields = boundFields.get(logger);
  if (fields === undefined) {
    fields = logger.bindings();
    boundFields.set(logger, fields);
  }
  return fields;
}
