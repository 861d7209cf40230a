import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonProcess } from './private-daemon';

/**
 * A private rsyslogd (Debian's rsyslog): imuxsock on a test unix socket, imudp on a loopback
 * port, two outputs in a temp folder: `lines` with `PRI-TEXT TAG[PID]: MSG` (what a test
 * compares) and `mailLog` in rsyslog's traditional file format (what fail2ban reads).
 * It never touches /dev/log or the system's rsyslog configuration.
 */
export class Rsyslog {
  private constructor(
    readonly dir: string,
    readonly socketPath: string,
    readonly udpPort: number,
    readonly linesFile: string,
    readonly mailLogFile: string,
    private readonly daemon: DaemonProcess,
  ) {}

  static readonly BINARY = '/usr/sbin/rsyslogd';

  static available(): boolean {
    return existsSync(Rsyslog.BINARY);
  }

  /** `extra` is more rsyslog configuration (RainerScript), `$DIR` in it is the temp folder. */
  static async start(extra = ''): Promise<Rsyslog> {
    const dir = mkdtempSync(join(tmpdir(), 'r2d2-rsyslog-'));
    const work = join(dir, 'work');
    mkdirSync(work);
    const socketPath = join(dir, 'log.sock');
    const linesFile = join(dir, 'lines.log');
    const mailLogFile = join(dir, 'mail.log');
    const udpPort = await freeUdpPort();
    const conf = join(dir, 'rsyslog.conf');
    writeFileSync(
      conf,
      `global(workDirectory="${work}" maxMessageSize="8k")
module(load="imuxsock" SysSock.Use="off")
module(load="imudp")
input(type="imuxsock" Socket="${socketPath}" CreatePath="on" RateLimit.Interval="0")
input(type="imudp" Address="127.0.0.1" Port="${udpPort}")
template(name="r2d2test" type="string" string="%pri-text% %syslogtag%%msg:::sp-if-no-1st-sp%%msg:::drop-last-lf%\\n")
*.* action(type="omfile" file="${linesFile}" template="r2d2test")
*.* action(type="omfile" file="${mailLogFile}" template="RSYSLOG_TraditionalFileFormat")
${extra.replaceAll('$DIR', dir)}
`,
    );
    const daemon = new DaemonProcess(spawn(Rsyslog.BINARY, ['-n', '-f', conf, '-i', join(dir, 'rsyslogd.pid')], { stdio: ['ignore', 'ignore', 'pipe'] }));
    // A test process that fails without its teardown still takes its rsyslogd along.
    const orphanGuard = (): void => {
      daemon.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    };
    process.once('exit', orphanGuard);
    void daemon.exited.then(() => process.off('exit', orphanGuard));
    const rsyslog = new Rsyslog(dir, socketPath, udpPort, linesFile, mailLogFile, daemon);
    try {
      await rsyslog.waitUntilReady();
    } catch (error) {
      await rsyslog.stop();
      throw new Error(`rsyslogd did not start: ${(error as Error).message}\n${daemon.output}`);
    }
    return rsyslog;
  }

  /** Both inputs answer: a probe sent to each is written out. */
  private async waitUntilReady(): Promise<void> {
    await this.waitFor(() => existsSync(this.socketPath), 'the unix socket');
    const probe = `probe-${process.pid}`;
    const sender = createSocket('udp4');
    try {
      await this.waitFor(() => {
        sender.send(`<14>${probe}: udp ready`, this.udpPort, '127.0.0.1');
        return this.lines().some((l) => l.includes('udp ready'));
      }, 'the udp input');
    } finally {
      sender.close();
    }
  }

  /** Polls `ready` (rsyslog writes in its own time) until true, or fails after 10 s. */
  async waitFor(ready: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ready()) {
      if (this.daemon.child.exitCode !== null) throw new Error(`rsyslogd exited (${this.daemon.child.exitCode}) while waiting for ${what}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; lines:\n${this.lines().join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** The lines written so far: `mail.info<22> server.pop3.r2d2[4242]: [1] connected ...`. */
  lines(): string[] {
    return readLines(this.linesFile);
  }

  /** Waits for a line matching `pattern` (in `file`, the compared lines by default) and returns it. */
  async line(pattern: RegExp, file = this.linesFile): Promise<string> {
    let found: string | undefined;
    await this.waitFor(() => (found = readLines(file).find((l) => pattern.test(l))) !== undefined, `a line matching ${pattern} in ${file}`);
    return found as string;
  }

  /** Stops (SIGSTOP) or resumes (SIGCONT) the daemon: a stopped one reads nothing, its socket fills. */
  pause(paused: boolean): void {
    this.daemon.child.kill(paused ? 'SIGSTOP' : 'SIGCONT');
  }

  async stop(): Promise<void> {
    if (this.daemon.running) {
      this.daemon.child.kill('SIGCONT');
      await this.daemon.stop('SIGTERM');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function readLines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') : [];
}

async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}
