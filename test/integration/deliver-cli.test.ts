// `r2d2 deliver` as an MTA runs it: the real CLI, a real MariaDB, the real POP3 server.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import t, { type Test } from 'tap';
import { fixture, type Fixture } from '../helpers/fixture';
import { asServed } from '../helpers/maildir';
import { parseMaildirName } from '../../src/maildrop/name';
import { testConfigText } from '../helpers/test-server';

const R2D2 = path.join(__dirname, '../../../bin/r2d2');
const IS_ROOT = process.getuid?.() === 0;

interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function deliver(args: readonly string[], input: string | Buffer, options: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    // As another user, through env -i: the test runner's NODE_OPTIONS would have it write where it may not.
    const [command, argv] = options.uid === undefined ? [process.execPath, [R2D2, 'deliver', ...args]] : ['/usr/bin/env', ['-i', process.execPath, R2D2, 'deliver', ...args]];
    const child = spawn(command, argv, {
      env: options.env ?? { ...process.env, SERVER_PERSONALITY_PATH: '' },
      timeout: 60_000,
      ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.gid ?? options.uid }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => undefined); // a delivery may exit before reading everything
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

const DELIVER_SECTION = `
deliver {
  recipient_query_format_string = "SELECT maildir, quota FROM mailbox WHERE username = %u AND active = 1"
  domain_query_format_string = "SELECT 1 FROM domain WHERE name = %d"
  recipient_delimiter = "+"
}`;

/** A personality for the fixture's database and mail root, with a deliver section. */
async function personality(t: Test, f: Fixture, extra = DELIVER_SECTION, dbPort?: number): Promise<string> {
  await f.db.query(`CREATE TABLE IF NOT EXISTS \`${f.db.name}\`.domain (name VARCHAR(255) PRIMARY KEY)`);
  await f.db.query(`INSERT IGNORE INTO \`${f.db.name}\`.domain VALUES ('example.com')`);
  const dir = fs.mkdtempSync(path.join(f.mail.path, '.personality-'));
  const text = testConfigText({ database: f.db.name, maildirRoot: f.mail.path, extra, ...(dbPort === undefined ? {} : { dbPort }) });
  fs.writeFileSync(path.join(dir, 'c11n'), text);
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const newFiles = (maildir: string): string[] => (fs.existsSync(path.join(maildir, 'new')) ? fs.readdirSync(path.join(maildir, 'new')).sort() : []);
const tmpFiles = (maildir: string): string[] => (fs.existsSync(path.join(maildir, 'tmp')) ? fs.readdirSync(path.join(maildir, 'tmp')) : []);

t.test('usage errors are 64, an empty message 65', async (t) => {
  const f = await fixture(t);
  const md = path.join(f.mail.path, 'u');
  for (const args of [[], ['--maildir', md, '--recipient', 'a@example.com'], ['--maildir', md, '--bogus'], ['--maildir', md, '--quota', 'lots'], ['--maildir', md, '--over-quota', 'maybe']]) {
    const r = await deliver(args, 'Subject: x\n\nx\n');
    t.equal(r.code, 64, `${args.join(' ')}: ${r.stderr}`);
  }
  const recipientOnly = await deliver(['--recipient', 'a@example.com'], 'x\n');
  t.equal(recipientOnly.code, 64, 'a recipient needs a personality');
  t.match(recipientOnly.stderr, /SERVER_PERSONALITY_PATH/);
  const empty = await deliver(['--maildir', md], '');
  t.equal(empty.code, 65);
  t.match(empty.stderr, /^r2d2 deliver: empty message/);
  t.same(tmpFiles(md), []);
  t.same(newFiles(md), []);
});

t.test('recipients from the database: found, by extension, unknown user 67, unknown domain 68, -v prints the file', async (t) => {
  const f = await fixture(t);
  const p = await personality(t, f);
  const alice = path.join(f.mail.path, 'example.com', 'alice');
  await f.db.addUser('alice@example.com', 'pw', alice);
  await f.db.addUser('gone@example.com', 'pw', path.join(f.mail.path, 'gone'), false);
  const ok = await deliver(['-p', p, '--recipient', 'alice@EXAMPLE.com', '-v'], 'Subject: one\n\nhi\n');
  t.equal(ok.code, 0, ok.stderr);
  t.equal(ok.stderr, '');
  t.match(ok.stdout, new RegExp(`^${alice}/new/\\d+\\.M\\d+P\\d+Q1Z14\\.[^/]+\\n$`));
  const ext = await deliver(['--recipient', 'alice+lists@example.com'], 'Subject: two\n\nhi\n', { env: { ...process.env, SERVER_PERSONALITY_PATH: p } });
  t.equal(ext.code, 0, `the extension is dropped when the full address is unknown: ${ext.stderr}`);
  t.equal(newFiles(alice).length, 2);
  const nobody = await deliver(['-p', p, '--recipient', 'bob@example.com'], 'x\n');
  t.equal(nobody.code, 67);
  t.match(nobody.stderr, /unknown recipient: bob@example\.com/);
  t.equal((await deliver(['-p', p, '--recipient', 'gone@example.com'], 'x\n')).code, 67, 'an inactive account');
  const elsewhere = await deliver(['-p', p, '--recipient', 'bob@example.org'], 'x\n');
  t.equal(elsewhere.code, 68);
  t.match(elsewhere.stderr, /unknown domain: example\.org/);
  t.equal((await deliver(['-p', p, '--recipient', 'bad address@example.com'], 'x\n')).code, 64);
});

t.test('quota from the database column: 75, or 69 with over_quota = bounce; maildirsize kept', async (t) => {
  const f = await fixture(t);
  const p = await personality(t, f);
  const alice = path.join(f.mail.path, 'alice');
  await f.db.addUser('alice@example.com', 'pw', alice);
  await f.db.query(`UPDATE \`${f.db.name}\`.mailbox SET quota = '100S,10C' WHERE username = 'alice@example.com'`);
  t.equal((await deliver(['-p', p, '-r', 'alice@example.com'], 'a'.repeat(79) + '\n')).code, 0);
  t.equal(fs.readFileSync(path.join(alice, 'maildirsize'), 'utf8'), '100S,10C\n0 0\n80 1\n');
  const over = await deliver(['-p', p, '-r', 'alice@example.com'], 'b'.repeat(29) + '\n');
  t.equal(over.code, 75);
  t.match(over.stderr, /over quota \(80 \+ 30 of 100 bytes, 1 \+ 1 of 10 messages\)/);
  const bounce = await personality(t, f, DELIVER_SECTION.replace('}', '  over_quota = bounce\n}'));
  t.equal((await deliver(['-p', bounce, '-r', 'alice@example.com'], 'b'.repeat(29) + '\n')).code, 69);
  t.equal((await deliver(['-p', bounce, '-r', 'alice@example.com', '--over-quota', 'tempfail'], 'b'.repeat(29) + '\n')).code, 75, 'the option wins');
  t.equal((await deliver(['-p', p, '-r', 'alice@example.com', '--quota', 'none'], 'b'.repeat(29) + '\n')).code, 0, '--quota wins');
  t.equal(newFiles(alice).length, 2);
  t.same(tmpFiles(alice), []);
  await f.db.query(`UPDATE \`${f.db.name}\`.mailbox SET quota = 'a lot' WHERE username = 'alice@example.com'`);
  const broken = await deliver(['-p', p, '-r', 'alice@example.com'], 'x\n');
  t.equal(broken.code, 75, 'a quota the operator got wrong keeps the mail queued');
  t.match(broken.stderr, /is not a quota/);
});

t.test('transient trouble is 75: database down, broken personality, maildir outside maildir_root', async (t) => {
  const f = await fixture(t);
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const address = closed.address();
  const port = typeof address === 'object' && address !== null ? address.port : 1;
  await new Promise((resolve) => closed.close(resolve));
  const down = await personality(t, f, DELIVER_SECTION, port);
  const r = await deliver(['-p', down, '-r', 'alice@example.com'], 'x\n');
  t.equal(r.code, 75);
  t.match(r.stderr, /recipient database: ECONNREFUSED/);

  const broken = await personality(t, f, 'deliver { recipient_query_format_string = "SELECT maildir FROM mailbox WHERE password = %p" }');
  const b = await deliver(['-p', broken, '-r', 'alice@example.com'], 'x\n');
  t.equal(b.code, 75);
  t.match(b.stderr, /configuration: c11n:\d+:\d+: .*unknown substitution "%p"/);

  const p = await personality(t, f);
  await f.db.addUser('eve@example.com', 'pw', '/etc/r2d2-escape');
  const e = await deliver(['-p', p, '-r', 'eve@example.com'], 'x\n');
  t.equal(e.code, 75);
  t.match(e.stderr, /outside maildir_root/);
  t.notOk(fs.existsSync('/etc/r2d2-escape'));
  t.equal((await deliver(['-p', p, '--maildir', '/etc/r2d2-escape'], 'x\n')).code, 75, '--maildir is held to maildir_root too');
});

t.test('a maildir the delivery user may not write: 75 and no partial file', { skip: IS_ROOT ? false : 'needs root to run the delivery as nobody' }, async (t) => {
  const f = await fixture(t);
  fs.chmodSync(f.mail.path, 0o755);
  const md = f.mail.maildir('readonly');
  fs.chmodSync(md, 0o755);
  for (const sub of ['tmp', 'new', 'cur']) fs.chmodSync(path.join(md, sub), 0o755);
  const r = await deliver(['--maildir', md], 'Subject: x\n\ny\n', { uid: 65534, gid: 65534 });
  t.equal(r.code, 75, r.stderr);
  t.match(r.stderr, /^r2d2 deliver: cannot create .*\/readonly\/tmp\/.*: EACCES \(permission denied\)\n$/);
  t.same(tmpFiles(md), []);
  t.same(newFiles(md), []);
});

t.test('50 real deliveries, 16 at a time; the POP3 server lists exactly them with the same sizes and bytes', async (t) => {
  const f = await fixture(t);
  const p = await personality(t, f);
  const alice = path.join(f.mail.path, 'alice');
  await f.db.addUser('alice@example.com', 'pw', alice);
  const inputs = Array.from({ length: 50 }, (_, i) =>
    Buffer.from(`Subject: message ${i}\r\nX-Kind: ${i % 4}\n\n${'body line\n'.repeat(i % 9)}${i % 4 === 1 ? '.dot line\r\n' : ''}${i % 4 === 2 ? 'no final newline' : 'end\n'}`),
  );
  const codes: Array<number | null> = [];
  for (let at = 0; at < inputs.length; at += 16) {
    const batch = inputs.slice(at, at + 16).map((input) => deliver(['-p', p, '-r', 'alice@example.com'], input));
    for (const r of await Promise.all(batch)) {
      codes.push(r.code);
      if (r.code !== 0) t.fail(r.stderr);
    }
  }
  t.equal(codes.filter((c) => c === 0).length, 50);
  t.equal(newFiles(alice).length, 50);
  t.same(tmpFiles(alice), []);

  const c = await f.loggedIn('alice@example.com', 'pw');
  const list = await c.cmd('LIST');
  t.equal(list.lines?.length, 50, 'the server lists all 50');
  const expected = new Map(inputs.map((input) => [asServed(input).toString('latin1'), asServed(input).length]));
  const seen = new Set<string>();
  for (const line of list.lines ?? []) {
    const [n, size] = line.split(' ');
    const body = (await c.cmd(`RETR ${n}`)).body?.toString('latin1') ?? '';
    t.equal(Number(size), body.length, `LIST ${n} = octets received`);
    t.equal(expected.get(body), body.length, `message ${n} is one that was delivered`);
    seen.add(body);
  }
  t.equal(seen.size, 50, 'each delivered message exactly once');
  const uidl = await c.cmd('UIDL');
  t.equal(new Set(uidl.lines?.map((l) => l.split(' ')[1])).size, 50, 'distinct unique-ids');
  await c.cmd('QUIT');
});

/** CRLF lines of `width` octets (CRLF included) with a "." line whose "." is at `dotAt` (0: none). */
function crlfMessage(octets: number, dotAt: number): Buffer {
  const message = Buffer.alloc(octets, 'x');
  for (let lf = 63; lf < octets; lf += 64) message.write('\r\n', lf - 1, 'latin1');
  if (dotAt > 0) {
    message.write('\r\n', dotAt - 2, 'latin1'); // a line end just before the dot, however the lines fall
    message[dotAt] = 0x2e;
  }
  message.write('\r\n', octets - 2, 'latin1');
  return message;
}

t.test('store_crlf = yes: CRLF files whose size is the Z size, and RETR sends them byte for byte', async (t) => {
  const f = await fixture(t);
  const p = await personality(t, f, DELIVER_SECTION.replace('}', '  store_crlf = yes\n}'));
  const alice = path.join(f.mail.path, 'alice');
  await f.db.addUser('alice@example.com', 'pw', alice);
  const inputs: Buffer[] = [
    Buffer.from('Subject: lf\n\nhello\nworld\n'),
    Buffer.from('.Subject: mixed\r\n\r\n.a dot line\nno final line end'),
    Buffer.from('Subject: about 29 KB\r\n\r\n' + 'a base64-ish line of text, long enough to look like one .......\r\n'.repeat(450)),
    crlfMessage(200_000, 0),
    crlfMessage(200_000, 65_536), // "\n" ends the first 64 KiB chunk, "." starts the second
    crlfMessage(200_000, 131_073),
  ];
  for (const input of inputs) {
    const r = await deliver(['-p', p, '-r', 'alice@example.com'], input);
    t.equal(r.code, 0, r.stderr);
  }
  const stored = newFiles(alice).map((name) => ({ name, content: fs.readFileSync(path.join(alice, 'new', name)) }));
  t.equal(stored.length, inputs.length);
  const byContent = new Map(inputs.map((input) => [asServed(input).toString('latin1'), input]));
  for (const { name, content } of stored) {
    t.ok(byContent.has(content.toString('latin1')), `${name}: stored as served (CRLF line ends, a final line end)`);
    t.equal(parseMaildirName(name).size, content.length, `${name}: Z size = file size`);
  }
  const c = await f.loggedIn('alice@example.com', 'pw');
  const list = await c.cmd('LIST');
  for (const line of list.lines ?? []) {
    const [n, size] = line.split(' ');
    const body = (await c.cmd(`RETR ${n}`)).body ?? Buffer.alloc(0);
    t.equal(body.length, Number(size), `RETR ${n}: the octets LIST announced`);
    t.ok(byContent.has(body.toString('latin1')), `RETR ${n}: a stored file, byte for byte (dot-stuffing undone by the client)`);
  }
  await c.cmd('QUIT');
});
