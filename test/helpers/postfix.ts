// A private Postfix for tests: its own config and queue folders under a temp dir, on a free
// loopback port, run in the foreground as the test's child (`postfix start-fg`) and stopped at
// teardown. Nothing of the machine's own mail set-up is used or touched.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import type { Test } from 'tap';
import { freePort } from './ports';
import { DaemonProcess } from './private-daemon';

const POSTFIX = ['/usr/sbin/postfix', '/usr/lib/postfix/sbin/master'];

/** Why Postfix cannot run here, or false. */
export function postfixMissing(): string | false {
  if (process.getuid?.() !== 0) return 'Postfix needs root to start';
  if (!POSTFIX.every((p) => fs.existsSync(p))) return 'postfix is not installed (apt-get install postfix)';
  return false;
}

export interface Postfix {
  /** The smtpd port on 127.0.0.1. */
  readonly port: number;
  /** Postfix's log so far. */
  maillog(): string;
  /** Waits for a line of the log matching `pattern`; resolves with the match. */
  waitForLog(what: string, pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
}

export interface PostfixOptions {
  /** main.cf lines after the common ones (virtual_transport ...). */
  readonly main: string;
  /** master.cf lines after the common services. */
  readonly master: readonly string[];
}

/** Starts Postfix with its folders under `base` (which must exist, mode 0755). */
export async function startPostfix(t: Test, base: string, options: PostfixOptions): Promise<Postfix> {
  const etc = path.join(base, 'etc');
  for (const d of [etc, path.join(base, 'queue'), path.join(base, 'data')]) fs.mkdirSync(d, { recursive: true, mode: 0o755 });
  const postfixUid = spawnSync('id', ['-u', 'postfix'], { encoding: 'utf8' }).stdout.trim();
  fs.chownSync(path.join(base, 'data'), postfixUid === '' ? 0 : Number(postfixUid), 0);
  const port = await freePort();
  const log = path.join(base, 'maillog');
  fs.writeFileSync(
    path.join(etc, 'main.cf'),
    `compatibility_level = 3.6
queue_directory = ${base}/queue
data_directory = ${base}/data
mail_owner = postfix
myhostname = r2d2-test.localdomain
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_recipient_restrictions = permit_mynetworks, reject
smtpd_peername_lookup = no
default_transport = discard
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtputf8_enable = no
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
maillog_file_prefixes = ${base}
maillog_file = ${log}
${options.main}
`,
  );
  const services = [
    `127.0.0.1:${port} inet n - n - - smtpd`,
    'pickup unix n - n 60 1 pickup',
    'cleanup unix n - n - 0 cleanup',
    'qmgr unix n - n 300 1 qmgr',
    'rewrite unix - - n - - trivial-rewrite',
    'bounce unix - - n - 0 bounce',
    'defer unix - - n - 0 bounce',
    'trace unix - - n - 0 bounce',
    'verify unix - - n - 1 verify',
    'flush unix n - n 1000? 0 flush',
    'proxymap unix - - n - - proxymap',
    'showq unix n - n - - showq',
    'error unix - - n - - error',
    'retry unix - - n - - error',
    'discard unix - - n - - discard',
    'anvil unix - - n - 1 anvil',
    'scache unix - - n - 1 scache',
    'postlog unix-dgram n - n - 1 postlogd',
    ...options.master,
  ];
  fs.writeFileSync(path.join(etc, 'master.cf'), services.join('\n') + '\n');

  const master = new DaemonProcess(spawn('/usr/sbin/postfix', ['-c', etc, 'start-fg'], { stdio: ['ignore', 'pipe', 'pipe'] }));
  t.teardown(async () => {
    spawnSync('/usr/sbin/postfix', ['-c', etc, 'stop']);
    const timer = setTimeout(() => master.child.kill('SIGKILL'), 10_000);
    await master.exited;
    clearTimeout(timer);
  });
  const maillog = (): string => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '');
  const waitForLog = (what: string, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> =>
    waitFor(what, () => pattern.exec(maillog()) ?? undefined, timeoutMs);
  await waitForLog(`Postfix listening (${master.output})`, /daemon started/);
  return { port, maillog, waitForLog };
}

export async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** One SMTP transaction to `to` (one or more recipients); resolves with the server's lines. */
export function smtpSend(port: number, from: string, to: string | readonly string[], data: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const text = data.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
    const rcpts = typeof to === 'string' ? [to] : to;
    const script = ['EHLO client.test', `MAIL FROM:<${from}>`, ...rcpts.map((r) => `RCPT TO:<${r}>`), 'DATA', (text.endsWith('\r\n') ? text : text + '\r\n') + '.', 'QUIT'];
    const lines: string[] = [];
    let buffer = '';
    let step = 0;
    socket.on('data', (d: Buffer) => {
      buffer += d.toString('latin1');
      for (let i = buffer.indexOf('\r\n'); i !== -1; i = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        lines.push(line);
        if (line[3] === '-') continue; // a continued reply
        if (!/^[23]/.test(line)) {
          socket.destroy();
          reject(new Error(`SMTP: ${lines.join(' | ')}`));
          return;
        }
        const next = script[step++];
        if (next !== undefined) socket.write(next + '\r\n');
      }
    });
    socket.on('close', () => resolve(lines));
    socket.on('error', reject);
  });
}
