// Reads a personality's c11n once, at startup, into a deep-frozen Config. The only place
// that touches the config files; the environment comes in as a parameter.
import fs from 'node:fs';
import path from 'node:path';
import { C11nError, ioReason } from './errors';
import { parseC11n } from './parser';
import { toConfig } from './r2d2-schema';
import type { Config } from './types';

/** The config file's name inside a personality folder, and in every message about it. */
export const CONFIG_FILE = 'c11n';

/** Reads an include by its name relative to the personality folder (`modules/tls.c11n`). */
export type ReadInclude = (name: string) => string;

export function loadConfig(personalityDir: string, env: NodeJS.ProcessEnv, cores: number): Config {
  const dir = path.resolve(personalityDir);
  const file = path.join(dir, CONFIG_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err: unknown) {
    throw new C11nError(CONFIG_FILE, 1, 1, `cannot read ${file}: ${ioReason(err)}`);
  }
  return parseConfigText(text, dir, env, cores);
}

/** loadConfig without the read of c11n; includes come from `readInclude` (default: the disk). */
export function parseConfigText(
  text: string,
  personalityDir: string,
  env: NodeJS.ProcessEnv,
  cores: number,
  readInclude?: ReadInclude,
): Config {
  const dir = path.resolve(personalityDir);
  const read = readInclude ?? ((name: string) => fs.readFileSync(path.resolve(dir, name), 'utf8'));
  const root = parseC11n(text, CONFIG_FILE, { env, readInclude: read });
  return deepFreeze(toConfig(root, dir, cores));
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
