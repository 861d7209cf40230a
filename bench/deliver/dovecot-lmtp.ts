// A private Dovecot LMTP (dovecot-lmtpd): its own config, base and state folders, a loopback
// port, in the foreground as our child. Same accounts table as r2d2 (the maildir column, moved
// to Dovecot's tree), every message fsynced (mail_fsync = always) as r2d2 fsyncs each file and
// new/. The system's dovecot service is never started.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { sleep, stopProcess } from '../setup/util';

export interface DovecotLmtpOptions {
  readonly dir: string;
  readonly port: number;
  readonly database: string;
  readonly r2d2Root: string;
  readonly mailRoot: string;
  readonly uid: number;
  readonly gid: number;
}

export function lmtpInstalled(): boolean {
  return existsSync('/usr/lib/dovecot/lmtp') && existsSync('/usr/lib/dovecot/modules/auth/libdriver_mysql.so');
}

function config(o: DovecotLmtpOptions): string {
  const mail = `CONCAT('maildir:', REPLACE(maildir, '${o.r2d2Root}/', '${o.mailRoot}/'), ':INDEX=${join(o.dir, 'index')}/%u')`;
  writeFileSync(
    join(o.dir, 'sql.conf.ext'),
    [
      'driver = mysql',
      `connect = host=127.0.0.1 port=3306 user=root dbname=${o.database}`,
      `user_query = SELECT ${o.uid} AS uid, ${o.gid} AS gid, ${mail} AS mail FROM mailbox WHERE username = '%u' AND active = 1`,
      `password_query = SELECT username AS user, password FROM mailbox WHERE username = '%u' AND active = 1`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return `# r2d2 bench: a private Dovecot LMTP, generated; nothing here touches /etc/dovecot.
base_dir = ${join(o.dir, 'run')}
state_dir = ${join(o.dir, 'state')}
instance_name = r2d2-bench-lmtp
protocols = lmtp
listen = 127.0.0.1
log_path = ${join(o.dir, 'dovecot.log')}
ssl = no
first_valid_uid = ${o.uid}
first_valid_gid = ${o.gid}
mail_fsync = always
lmtp_save_to_detail_mailbox = no
passdb {
  driver = sql
  args = ${join(o.dir, 'sql.conf.ext')}
}
userdb {
  driver = sql
  args = ${join(o.dir, 'sql.conf.ext')}
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = ${o.port}
  }
  process_min_avail = 2
  service_count = 0
}
`;
}

export class DovecotLmtp {
  private constructor(readonly child: ChildProcess) {}

  get pid(): number {
    return this.child.pid ?? 0;
  }

  static async start(o: DovecotLmtpOptions): Promise<DovecotLmtp> {
    for (const sub of ['run', 'state']) mkdirSync(join(o.dir, sub), { recursive: true, mode: 0o755 });
    mkdirSync(join(o.dir, 'index'), { recursive: true, mode: 0o700 });
    chownSync(join(o.dir, 'index'), o.uid, o.gid);
    const conf = join(o.dir, 'dovecot.conf');
    writeFileSync(conf, config(o));
    const check = spawnSync('doveconf', ['-c', conf, '-n'], { encoding: 'utf8' });
    if (check.status !== 0) throw new Error(`doveconf rejects the LMTP bench config: ${check.stderr.trim()}`);
    const out = openSync(join(o.dir, 'dovecot.stderr'), 'a');
    const child = spawn('dovecot', ['-F', '-c', conf], { stdio: ['ignore', out, out] });
    closeSync(out);
    const instance = new DovecotLmtp(child);
    const end = Date.now() + 20_000;
    for (;;) {
      const greeting = await new Promise<string>((resolve) => {
        const s = connect({ port: o.port, host: '127.0.0.1' });
        let got = '';
        s.on('data', (d: Buffer) => {
          got += d.toString('latin1');
          if (got.includes('\n')) s.end();
        });
        s.on('error', () => resolve(''));
        s.on('close', () => resolve(got));
      });
      if (greeting.startsWith('220')) return instance;
      if (Date.now() > end || child.exitCode !== null) {
        await instance.stop();
        throw new Error(`Dovecot LMTP did not start (see ${join(o.dir, 'dovecot.log')})`);
      }
      await sleep(100);
    }
  }

  async stop(): Promise<void> {
    await stopProcess(this.child, 15_000);
  }
}
