import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { uniqueName } from '../deliver/unique-name';
import { Rfc822SizeCounter } from '../maildrop/rfc822-size';

export const DEMO_USER = 'demo';
export const DEMO_PASSWORD = 'demo';
export const DEMO_PORT = 1110;

/**
 * The embedded default: a personality that needs no MySQL server. On first run it creates an
 * SQLite accounts db with one account and a maildrop with a welcome message; later runs reuse
 * them. Returns the personality folder.
 */
export function ensureDemo(baseDir: string): string {
  const base = resolve(baseDir);
  const personality = join(base, 'personality');
  const maildir = join(base, 'mail', DEMO_USER);
  if (existsSync(join(personality, 'c11n'))) return personality;
  mkdirSync(join(personality, 'modules'), { recursive: true });
  for (const sub of ['tmp', 'new', 'cur']) mkdirSync(join(maildir, sub), { recursive: true, mode: 0o700 });

  const db = new Database(join(personality, 'accounts.sqlite'));
  db.exec('CREATE TABLE IF NOT EXISTS accounts (login TEXT PRIMARY KEY, password TEXT NOT NULL, maildir TEXT NOT NULL)');
  db.prepare('INSERT OR REPLACE INTO accounts VALUES (?, ?, ?)').run(DEMO_USER, sha256(DEMO_PASSWORD), maildir);
  db.close();

  const welcome = Buffer.from(
    [
      'From: r2d2 <postmaster@localhost>',
      `To: ${DEMO_USER}@localhost`,
      'Subject: Welcome to r2d2',
      `Date: ${new Date().toUTCString()}`,
      'Message-ID: <welcome@r2d2.localhost>',
      '',
      'This message came from a Maildir maildrop through r2d2.',
      'Its size is in its file name, so STAT and LIST never open a file.',
      '',
    ].join('\n'),
  );
  const size = new Rfc822SizeCounter();
  size.push(welcome);
  writeFileSync(join(maildir, 'new', uniqueName(size.size)), welcome, { mode: 0o600 });

  writeFileSync(
    join(personality, 'c11n'),
    `# r2d2 embedded default: SQLite accounts, one demo maildrop. Made by \`r2d2 serve --demo\`.
identity = "server.pop3.r2d2"
idle_timeout = 600
threads = 2
# A demo on a developer's machine may be started as root; production sets uid/gid instead.
executes_as_root = yes
maildir_root = "${join(base, 'mail')}"
maildrop_query_format_string = "SELECT maildir FROM accounts WHERE login = %u AND password = SHA2(%p, 256)"

listen "pop3" {
  address = "\${R2D2_DEMO_ADDRESS:-127.0.0.1}"
  port = \${R2D2_DEMO_PORT:-${DEMO_PORT}}
  tls = none
}

database "accounts" {
  driver = sqlite
  file = "accounts.sqlite"
}

log {
  destination = stdout
  level = info
}
`,
  );
  return personality;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** What `npm start` prints once the port is bound: how to connect. */
export function demoBanner(port: number): string {
  return (
    `r2d2 is serving the demo maildrop on 127.0.0.1:${port} (user "${DEMO_USER}", password "${DEMO_PASSWORD}").\n` +
    `Try: curl pop3://${DEMO_USER}:${DEMO_PASSWORD}@127.0.0.1:${port}/1   or   python3 -c "import poplib; p=poplib.POP3('127.0.0.1', ${port}); p.user('${DEMO_USER}'); p.pass_('${DEMO_PASSWORD}'); print(p.stat())"\n` +
    'Stop with Ctrl-C.'
  );
}
