// mpop and fetchmail as clients that leave mail on the server and remember what they fetched by
// UIDL (mpop's uidls_file, fetchmail's idfile), driven as the client matrix drives them
// (test/integration/client-matrix-mpop.test.ts, -fetchmail.test.ts). One `KeepClients` is one
// user's pair of clients: its memory files live as long as it does, whichever server they ask.
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mdaScript } from './client-matrix';
import { run, type RunResult } from './run';

export interface Fetched {
  readonly result: RunResult;
  /** Messages the client fetched in this run. */
  readonly count: number;
}

export class KeepClients {
  readonly home: string;
  private runs = 0;

  constructor(
    private readonly user: string,
    private readonly password: string,
  ) {
    this.home = mkdtempSync(join(tmpdir(), 'r2d2-keep-clients-'));
  }

  /** mpop, keep on, only_new on, into a fresh Maildir; its uidls file is kept between runs. */
  async mpop(port: number): Promise<Fetched> {
    const into = join(this.home, `mpop-${++this.runs}`);
    for (const sub of ['tmp', 'new', 'cur']) mkdirSync(join(into, sub), { recursive: true });
    const conf = join(this.home, `mpop-${this.runs}.conf`);
    writeFileSync(
      conf,
      `account keep\nhost 127.0.0.1\nport ${port}\ntls off\nauth user\nuser ${this.user}\npassword ${this.password}\nkeep on\nonly_new on\nuidls_file ${join(this.home, 'mpop-uidls')}\ndelivery maildir ${into}\n`,
    );
    chmodSync(conf, 0o600);
    const result = await run('mpop', ['--file', conf, '--quiet', 'keep'], { env: { ...process.env, HOME: this.home }, timeoutMs: 60_000 });
    return { result, count: readdirSync(join(into, 'new')).length + readdirSync(join(into, 'cur')).length };
  }

  /** fetchmail, keep and uidl, through an MDA into a fresh folder; its idfile is kept between runs. */
  async fetchmail(port: number): Promise<Fetched> {
    const out = join(this.home, `fetchmail-${++this.runs}`);
    mkdirSync(out);
    const rc = join(this.home, `fetchmail-${this.runs}.rc`);
    writeFileSync(
      rc,
      `set no bouncemail\npoll 127.0.0.1 with proto POP3 port ${port} uidl\n  user "${this.user}" there with password "${this.password}"\n  options keep no rewrite sslproto '' no sslcertck\n  mda "${mdaScript(join(this.home, `fetchmail-${this.runs}.mda`), out)}"\n`,
    );
    chmodSync(rc, 0o600);
    const env = { ...process.env, HOME: this.home, FETCHMAILHOME: this.home };
    const result = await run('fetchmail', ['--fetchmailrc', rc, '--nosyslog', '--nodetach', '--idfile', join(this.home, 'fetchmail-ids'), '--pidfile', join(this.home, 'fetchmail.pid')], { env, timeoutMs: 60_000 });
    return { result, count: readdirSync(out).length };
  }

  remove(): void {
    rmSync(this.home, { recursive: true, force: true });
  }
}
