// `control_socket` of a personality, read alone for the CLI's `r2d2 who`, `kick` and `status`.
import fs from 'node:fs';
import path from 'node:path';
import { controlSocketKey, controlSocketPath } from './control-socket';
import { C11nError, ioReason } from './errors';
import { CONFIG_FILE } from './load';
import { parseC11n } from './parser';

/**
 * The rest of c11n is parsed but not validated, and a `${ENV}` the operator's shell lacks (the
 * database password from the service's EnvironmentFile) reads as empty instead of failing:
 * the socket's path is all these commands need. Undefined: no control socket.
 */
export function readControlSocket(personalityDir: string, env: NodeJS.ProcessEnv): string | undefined {
  const dir = path.resolve(personalityDir);
  const file = path.join(dir, CONFIG_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new C11nError(CONFIG_FILE, 1, 1, `cannot read ${file}: ${ioReason(error)}`);
  }
  const lenient = new Proxy(env, { get: (target, name) => (typeof name === 'string' ? (target[name] ?? '') : undefined) });
  const root = parseC11n(text, CONFIG_FILE, { env: lenient, readInclude: (name) => fs.readFileSync(path.resolve(dir, name), 'utf8') });
  let value: string | undefined;
  for (const entry of root.entries) {
    if (entry.kind !== 'assign' || entry.key !== 'control_socket') continue;
    value = controlSocketKey.conv.convert(entry.value, entry.key);
  }
  return controlSocketPath(value);
}
