// Reads a secret kept in a file of its own (`password_file`), so that it never has to travel
// through the environment, where /proc/PID/environ shows it to every process of the same uid.
import fs from 'node:fs';
import { ioReason } from './errors';

export type SecretRead = { readonly secret: string; readonly error?: undefined } | { readonly error: string };

/** The file's text without its trailing newline(s); an unreadable or empty file is an error. */
export function readSecretFile(file: string): SecretRead {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err: unknown) {
    return { error: `cannot read ${file}: ${ioReason(err)}` };
  }
  const secret = text.replace(/(?:\r?\n)+$/, '');
  if (secret.length === 0) return { error: `${file} is empty` };
  return { secret };
}
