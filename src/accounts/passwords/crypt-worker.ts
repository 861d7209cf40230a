// The hashing pool's thread (crypt-pool.ts): the crypt(3) schemes written in JavaScript.
import { md5Crypt, parseMd5CryptSalt } from './md5-crypt';
import { parseShaCryptSetting, shaCrypt } from './sha-crypt';

export interface CryptTask {
  readonly password: string;
  /** A `$1$`, `$5$` or `$6$` setting (a full stored hash works too: its salt and rounds are used). */
  readonly setting: string;
}

/** The crypt string, or undefined when the setting is not one of these schemes. */
export function crypt(task: CryptTask): string | undefined {
  const password = Buffer.from(task.password, 'utf8');
  const sha = parseShaCryptSetting(task.setting);
  if (sha !== undefined) return shaCrypt(password, sha);
  const md5 = parseMd5CryptSalt(task.setting);
  return md5 === undefined ? undefined : md5Crypt(password, md5);
}
