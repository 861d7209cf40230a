// A private Dovecot instance: Debian's packages, its own config file, base_dir, state_dir,
// index and control dirs under the bench folder, loopback ports, run in the foreground (-F)
// as our child and stopped at the end. The system's dovecot service is never started.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import type { Certificate } from './tls';
import { stopProcess, waitForGreeting } from './util';

const PACKAGES = ['dovecot-pop3d', 'dovecot-mysql', 'dovecot-lmtpd'];
const MYSQL_DRIVER = '/usr/lib/dovecot/modules/auth/libdriver_mysql.so';
const POLICY = '/usr/sbin/policy-rc.d';

function installed(): boolean {
  return spawnSync('dovecot', ['--version'], { stdio: 'ignore' }).status === 0 && existsSync(MYSQL_DRIVER) && existsSync('/usr/lib/dovecot/pop3') && existsSync('/usr/lib/dovecot/lmtp');
}

export function dovecotVersion(): string {
  return execFileSync('dovecot', ['--version'], { encoding: 'utf8' }).trim();
}

/**
 * Installs Dovecot from Debian when missing. A temporary policy-rc.d keeps the package
 * scripts from starting the system service, which is then disabled: only our private
 * instance ever runs. A Dovecot the operator installed before is left as it is.
 */
export function ensureDovecot(log: (line: string) => void): void {
  if (installed()) return;
  log(`installing ${PACKAGES.join(' ')} from Debian (apt-get)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const ownPolicy = !existsSync(POLICY);
  if (ownPolicy) writeFileSync(POLICY, '#!/bin/sh\n# r2d2 bench: keep package scripts from starting services\nexit 101\n', { mode: 0o755 });
  try {
    const apt = (args: string[]): number | null =>
      spawnSync('apt-get', args, { env, stdio: ['ignore', 'ignore', 'inherit'] }).status;
    if (apt(['install', '-y', '-qq', '--no-install-recommends', ...PACKAGES]) !== 0) {
      if (apt(['update', '-qq']) !== 0) throw new Error('apt-get update failed');
      if (apt(['install', '-y', '-qq', '--no-install-recommends', ...PACKAGES]) !== 0) throw new Error(`apt-get install ${PACKAGES.join(' ')} failed`);
    }
  } finally {
    if (ownPolicy) rmSync(POLICY, { force: true });
  }
  // Not enabled at boot, not running (the policy above kept it stopped; be sure anyway).
  const quiet = { stdio: 'ignore' as const };
  spawnSync('deb-systemd-helper', ['disable', 'dovecot.service'], { ...quiet, env: { ...env, DPKG_MAINTSCRIPT_PACKAGE: 'dovecot-core', DPKG_MAINTSCRIPT_NAME: 'postinst' } });
  spawnSync('update-rc.d', ['dovecot', 'disable'], quiet);
  spawnSync('systemctl', ['disable', '--now', 'dovecot.service', 'dovecot.socket'], quiet);
  spawnSync('doveadm', ['stop'], quiet);
  if (!installed()) throw new Error('Dovecot is still missing after apt-get install');
}

export interface DovecotOptions {
  readonly dir: string;
  readonly port: number;
  readonly tlsPort: number;
  readonly tls: Certificate;
  readonly database: string;
  readonly r2d2Root: string;
  readonly mailRoot: string;
  readonly uid: number;
  readonly gid: number;
  readonly cores: number;
}

/** The config: Debian defaults, tuned the way Dovecot's docs say for performance. */
export function dovecotConfig(o: DovecotOptions): string {
  const index = join(o.dir, 'index');
  const control = join(o.dir, 'control');
  // The same row r2d2 reads: the maildir column, moved to the Dovecot tree (same inodes).
  const mail = `CONCAT('maildir:', REPLACE(maildir, '${o.r2d2Root}/', '${o.mailRoot}/'), ':INDEX=${index}/%u:CONTROL=${control}/%u')`;
  const sql = [
    'driver = mysql',
    `connect = host=127.0.0.1 port=3306 user=root dbname=${o.database}`,
    // The table holds hex SHA-256: Dovecot hashes the password itself, r2d2 asks MariaDB to.
    'default_pass_scheme = SHA256.HEX',
    // One query per login (userdb prefetch), as r2d2 does.
    `password_query = SELECT username AS user, password, ${o.uid} AS userdb_uid, ${o.gid} AS userdb_gid, ${mail} AS userdb_mail FROM mailbox WHERE username = '%u' AND active = 1`,
    `user_query = SELECT ${o.uid} AS uid, ${o.gid} AS gid, ${mail} AS mail FROM mailbox WHERE username = '%u' AND active = 1`,
    '',
  ].join('\n');
  writeFileSync(join(o.dir, 'sql.conf.ext'), sql, { mode: 0o600 });
  return `# r2d2 bench: a private Dovecot, generated; nothing here touches /etc/dovecot.
base_dir = ${join(o.dir, 'run')}
state_dir = ${join(o.dir, 'state')}
instance_name = r2d2-bench-dovecot
protocols = pop3
listen = 127.0.0.1
log_path = ${join(o.dir, 'dovecot.log')}
ssl = yes
ssl_cert = <${o.tls.cert}
ssl_key = <${o.tls.key}
disable_plaintext_auth = no
auth_mechanisms = plain
first_valid_uid = ${o.uid}
first_valid_gid = ${o.gid}
default_process_limit = 2000
default_client_limit = 20000
default_vsz_limit = 1G
# RFC 1939 §8: the maildrop is locked for the whole session.
pop3_lock_session = yes
# POP3 clients never see flags; like r2d2, do not rename files to add \\Seen after RETR.
pop3_no_flag_updates = yes
mail_max_userip_connections = 100
passdb {
  driver = sql
  args = ${join(o.dir, 'sql.conf.ext')}
}
userdb {
  driver = prefetch
}
userdb {
  driver = sql
  args = ${join(o.dir, 'sql.conf.ext')}
}
# High-performance login mode: login processes serve many connections each, one per core.
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = ${o.port}
  }
  inet_listener pop3s {
    address = 127.0.0.1
    port = ${o.tlsPort}
    ssl = yes
  }
  service_count = 0
  process_min_avail = ${o.cores}
  client_limit = 20000
}
# All users share one uid, so pop3 processes may be reused (one session at a time each).
service pop3 {
  service_count = 0
  process_limit = 2000
}
service auth {
  client_limit = 20000
}
service anvil {
  client_limit = 20000
}
`;
}

export class DovecotInstance {
  private constructor(
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {}

  get pid(): number {
    return this.child.pid ?? 0;
  }

  static async start(o: DovecotOptions): Promise<DovecotInstance> {
    for (const sub of ['run', 'state']) mkdirSync(join(o.dir, sub), { recursive: true, mode: 0o755 });
    for (const sub of ['index', 'control']) {
      mkdirSync(join(o.dir, sub), { recursive: true, mode: 0o700 });
      chownSync(join(o.dir, sub), o.uid, o.gid);
    }
    const conf = join(o.dir, 'dovecot.conf');
    writeFileSync(conf, dovecotConfig(o));
    const check = spawnSync('doveconf', ['-c', conf, '-n'], { encoding: 'utf8' });
    if (check.status !== 0) throw new Error(`doveconf rejects the bench config: ${check.stderr.trim()}`);
    const out = openSync(join(o.dir, 'dovecot.stderr'), 'a');
    const child = spawn('dovecot', ['-F', '-c', conf], { stdio: ['ignore', out, out] });
    closeSync(out);
    const instance = new DovecotInstance(child, join(o.dir, 'dovecot.log'));
    try {
      await waitForGreeting(o.port, 20_000, child);
    } catch (error) {
      await instance.stop();
      throw new Error(`Dovecot did not start (see ${instance.logFile}): ${(error as Error).message}`);
    }
    return instance;
  }

  async stop(): Promise<void> {
    await stopProcess(this.child, 15_000);
  }
}
