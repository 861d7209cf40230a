// The rows where each server verifies a password hash itself: accounts in the same MariaDB table
// whose password column holds `{SHA512-CRYPT}...` or `{ARGON2ID}...` (made by doveadm pw), each
// pointing at one of the standard 50-message maildrops. Dovecot's instance reads them as it is
// (its passdb takes the {SCHEME} prefix); r2d2 gets a second instance whose query returns the
// password column, so the other rows keep measuring r2d2's production query (SHA2 in SQL).
import { join } from 'node:path';
import type { BenchDatabase } from './database';
import { R2D2_VERIFYING_QUERY } from './database';
import { dovecotHashes, hashedUserNames, hashParameters, type HashedScheme } from './hashed-accounts';
import { R2d2Instance, writePersonality } from './r2d2';

export interface HashedLoginsOptions {
  readonly root: string;
  readonly db: BenchDatabase;
  /** The standard users' maildirs in r2d2's tree, one per hashed account (no two clients share one). */
  readonly maildirs: readonly string[];
  readonly mailRoot: string;
  readonly password: string;
  readonly schemes: readonly HashedScheme[];
  readonly uid: number;
  readonly gid: number;
  readonly say: (line: string) => void;
  /** A free port, chosen with the bench's others. */
  readonly port: number;
}

export class HashedLogins {
  private instance: R2d2Instance | undefined;

  private constructor(
    private readonly users: ReadonlyMap<HashedScheme, readonly string[]>,
    private readonly personalityDir: string,
    readonly port: number,
    private readonly logFile: string,
  ) {}

  static async prepare(o: HashedLoginsOptions): Promise<HashedLogins> {
    const users = new Map<HashedScheme, readonly string[]>();
    for (const scheme of o.schemes) {
      const names = hashedUserNames(scheme, o.maildirs.length);
      const hashes = dovecotHashes(scheme, o.password, names.length);
      await o.db.addHashedUsers(names.map((name, i) => ({ name, hash: hashes[i] ?? '', maildir: o.maildirs[i] ?? '' })));
      users.set(scheme, names);
      o.say(`${names.length} ${scheme} accounts (doveadm pw: ${hashParameters(hashes[0] ?? '')}), sharing the standard maildrops`);
    }
    const port = o.port;
    const written = writePersonality({
      dir: join(o.root, 'r2d2-verifying-conf'),
      port,
      stlsPort: 0,
      tlsPort: 0,
      tls: undefined,
      database: o.db.name,
      mailRoot: o.mailRoot,
      uid: o.uid,
      gid: o.gid,
      query: R2D2_VERIFYING_QUERY,
    });
    return new HashedLogins(users, written.dir, port, join(o.root, 'r2d2-verifying.log'));
  }

  usersOf(scheme: HashedScheme): readonly string[] {
    return this.users.get(scheme) ?? [];
  }

  /** The r2d2 that verifies hashes itself, started on first use. */
  async r2d2(): Promise<R2d2Instance> {
    this.instance ??= await R2d2Instance.start(this.personalityDir, this.port, this.logFile);
    return this.instance;
  }

  async stop(): Promise<void> {
    await this.instance?.stop();
  }
}
