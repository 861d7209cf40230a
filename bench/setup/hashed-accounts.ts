// Accounts whose `password` column holds a hash both servers verify themselves (issue 13's
// rows): SHA512-CRYPT with 5,000 rounds and ARGON2ID with Dovecot's default parameters, made by
// Dovecot's own `doveadm pw` (so the parameters are exactly the ones Dovecot writes). A few
// distinct hashes (salts) are spread over the accounts; a verification costs the same whatever
// the salt, and neither server caches one (Dovecot's auth cache is off by default).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type HashedScheme = 'SHA512-CRYPT' | 'ARGON2ID';

/** What each scheme must look like: SHA512-CRYPT without rounds= is 5,000 rounds (crypt(3)'s default). */
const EXPECTED: Readonly<Record<HashedScheme, RegExp>> = {
  'SHA512-CRYPT': /^\{SHA512-CRYPT\}\$6\$[^$]+\$[./A-Za-z0-9]{86}$/,
  ARGON2ID: /^\{ARGON2ID\}\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$/,
};

/** Distinct hashes made per scheme. */
const SALTS = 4;

/** `count` hashes of `password` in `scheme`, `{SCHEME}` form, from `doveadm pw` (SALTS distinct ones, repeated). */
export function dovecotHashes(scheme: HashedScheme, password: string, count: number): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'r2d2-bench-doveadm-'));
  try {
    // doveadm reads a config even for `pw`: a minimal one of its own, never the system's.
    const config = join(dir, 'dovecot.conf');
    writeFileSync(config, `ssl = no\nbase_dir = ${dir}\n`);
    const made = Array.from({ length: Math.min(SALTS, count) }, () =>
      execFileSync('doveadm', ['-c', config, 'pw', '-s', scheme], { input: `${password}\n${password}\n`, encoding: 'utf8' }).trim(),
    );
    for (const hash of made) if (!EXPECTED[scheme].test(hash)) throw new Error(`doveadm pw -s ${scheme} made an unexpected hash: ${hash.slice(0, 40)}...`);
    return Array.from({ length: count }, (_, i) => made[i % made.length] ?? '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The parameters of a hash, for the log: `m=65536,t=3,p=1`, `rounds=5000`. */
export function hashParameters(hash: string): string {
  const argon = /\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(hash);
  if (argon !== null) return `m=${argon[1]} KiB,t=${argon[2]},p=${argon[3]}`;
  const rounds = /\$rounds=(\d+)\$/.exec(hash);
  return `rounds=${rounds?.[1] ?? '5000'}`;
}

/** The account names of a scheme's users: `sha512-crypt-0000@bench.example`, ... */
export function hashedUserNames(scheme: HashedScheme, count: number): string[] {
  const prefix = scheme.toLowerCase();
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}@bench.example`);
}
