// A private Dovecot POP3 server for one test (as bench/setup/dovecot.ts runs one for the bench):
// Debian's dovecot, its own config, base_dir and state under a temp folder, a passwd-file with
// one user, a loopback port, the default pop3_uidl_format; run in the foreground as our child
// and stopped by pid. Dovecot refuses mail access as root, so the user is `mail` and the maildir
// is given to it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopProcess, waitForGreeting } from '../../bench/setup/util';
import { freePort } from './ports';

export interface DovecotPop3Options {
  readonly user: string;
  readonly password: string;
  readonly maildir: string;
  /** mail_location's CONTROL=: dovecot-uidlist goes there instead of the maildir. */
  readonly controlDir?: string;
  readonly reuseXuidl?: boolean;
  /** pop3_uidl_format; the default (%08Xu%08Xv) when absent. */
  readonly uidlFormat?: string;
}

export const MAIL_UID = 8; // Debian's `mail` user and group
export const MAIL_GID = 8;

/** Gives a folder and everything in it to `mail` (and lets it through the folders above). */
export function giveToMail(path: string): void {
  chownSync(path, MAIL_UID, MAIL_GID);
  if (statSync(path).isDirectory()) for (const name of readdirSync(path)) giveToMail(join(path, name));
}

export class DovecotPop3 {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly port: number,
  ) {}

  static async start(o: DovecotPop3Options): Promise<DovecotPop3> {
    const dir = mkdtempSync(join(tmpdir(), 'r2d2-dovecot-'));
    chmodSync(dir, 0o711); // the auth process (user dovecot) reads the users file in it
    try {
      const port = await freePort();
      for (const sub of ['run', 'state', 'index']) mkdirSync(join(dir, sub), { mode: 0o755 });
      chownSync(join(dir, 'index'), MAIL_UID, MAIL_GID);
      const control = o.controlDir === undefined ? '' : `:CONTROL=${o.controlDir}`;
      const users = join(dir, 'users');
      writeFileSync(users, `${o.user}:{PLAIN}${o.password}:${MAIL_UID}:${MAIL_GID}::${o.maildir}::userdb_mail=maildir:${o.maildir}:INDEX=${join(dir, 'index')}${control}\n`, { mode: 0o600 });
      const auth = Number(spawnSync('id', ['-u', 'dovecot'], { encoding: 'utf8' }).stdout.trim());
      chownSync(users, auth, 0);
      const conf = join(dir, 'dovecot.conf');
      writeFileSync(conf, config(dir, port, users, o));
      const check = spawnSync('doveconf', ['-c', conf, '-n'], { encoding: 'utf8' });
      if (check.status !== 0) throw new Error(`doveconf rejects the test config: ${check.stderr.trim()}`);
      const out = openSync(join(dir, 'dovecot.stderr'), 'a');
      const child = spawn('dovecot', ['-F', '-c', conf], { stdio: ['ignore', out, out] });
      closeSync(out);
      const instance = new DovecotPop3(child, dir, port);
      try {
        await waitForGreeting(port, 20_000, child);
      } catch (error) {
        await instance.stop();
        throw new Error(`Dovecot did not start: ${(error as Error).message}\n${instance.log()}`);
      }
      return instance;
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  log(): string {
    const read = (name: string): string => {
      try {
        return readFileSync(join(this.dir, name), 'utf8');
      } catch {
        return '';
      }
    };
    return read('dovecot.log') + read('dovecot.stderr');
  }

  async stop(): Promise<void> {
    await stopProcess(this.child, 15_000);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function config(dir: string, port: number, users: string, o: DovecotPop3Options): string {
  return `# r2d2 test: a private Dovecot, generated; nothing here touches /etc/dovecot.
base_dir = ${join(dir, 'run')}
state_dir = ${join(dir, 'state')}
instance_name = r2d2-test-dovecot-${port}
protocols = pop3
listen = 127.0.0.1
log_path = ${join(dir, 'dovecot.log')}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
first_valid_uid = ${MAIL_UID}
first_valid_gid = ${MAIL_GID}
pop3_lock_session = yes
${o.reuseXuidl === true ? 'pop3_reuse_xuidl = yes' : ''}
${o.uidlFormat === undefined ? '# pop3_uidl_format: the default (%08Xu%08Xv)' : `pop3_uidl_format = ${o.uidlFormat}`}
passdb {
  driver = passwd-file
  args = ${users}
}
userdb {
  driver = passwd-file
  args = ${users}
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener pop3s {
    port = 0
  }
}
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    port = 0
  }
}
`;
}
