// Issue 12 item 5: the database password never sits in the engine's environment
// (/proc/PID/environ, readable by every process of the session uid), whether c11n took it from
// the environment or from password_file. Real `r2d2 serve`, real MariaDB, a user made here.
import t, { type Test } from 'tap';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { MARIADB } from '../helpers/mariadb';
import { putMessage, sampleMessage } from '../helpers/maildir';
import { Pop3Client } from '../helpers/pop3-client';
import { run } from '../helpers/run';
import { SpawnedServer, spawnedConfigOf } from '../helpers/spawned-server';
import { databaseAndMail, tempDir } from '../helpers/test-resources';

const R2D2 = join(__dirname, '../../../bin/r2d2');

/** A database with one mailbox, and a MariaDB user of its own with a password; both dropped at teardown. */
async function setup(t: Test) {
  const { db, mail } = await databaseAndMail(t);
  const dir = tempDir(t, 'r2d2-secret-');
  const user = `r2d2_${randomBytes(4).toString('hex')}`;
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const admin = await createConnection(MARIADB);
  for (const host of ['localhost', '127.0.0.1']) {
    await admin.query(`CREATE USER '${user}'@'${host}' IDENTIFIED BY '${password}'`);
    await admin.query(`GRANT SELECT ON \`${db.name}\`.* TO '${user}'@'${host}'`);
  }
  t.teardown(async () => {
    for (const host of ['localhost', '127.0.0.1']) await admin.query(`DROP USER IF EXISTS '${user}'@'${host}'`);
    await admin.end();
  });
  const md = mail.maildir('alice');
  putMessage(md, sampleMessage(1));
  await db.addUser('alice', 'alicepw', md);
  const c11n = (passwordLine: string): string =>
    spawnedConfigOf({
      maildirRoot: mail.path,
      accounts: `host = "${MARIADB.host}"  port = ${MARIADB.port}  user = "${user}"  ${passwordLine}
  database = "${db.name}"  pool_size = 2`,
    });
  return { dir, password, c11n };
}

const environ = (pid: number): string => readFileSync(`/proc/${pid}/environ`, 'latin1');

async function logsIn(t: Test, port: number): Promise<void> {
  const { client } = await Pop3Client.greeted(port);
  t.teardown(() => client.destroy());
  t.ok((await client.login('alice', 'alicepw')).ok, 'a login works (the engine reached the database with the password)');
  t.ok((await client.cmd('RETR 1')).ok, 'and is served');
  await client.cmd('QUIT');
}

t.test('a password from the environment (${VAR} in c11n) is not in the engine environment', async (t) => {
  const { password, c11n } = await setup(t);
  const server = await SpawnedServer.start(t, c11n('password = "${R2D2_TEST_SECRET}"'), { R2D2_TEST_SECRET: password });
  await logsIn(t, server.port());
  const supervisor = server.child.pid ?? 0;
  // Node cannot clear its own initial environment: the supervisor's shows what it was started with
  // (README: use password_file). That it is seen there shows the test reads the right thing.
  t.ok(environ(supervisor).includes(password), 'the supervisor was started with it');
  const engine = environ(server.enginePid());
  t.notOk(engine.includes(password), 'the engine environment does not hold the password');
  t.notOk(engine.includes('R2D2_TEST_SECRET='), 'nor the variable at all');
  t.match(engine, /(^|\0)R2D2_TEST_HOOKS=1\0/, 'allow-listed variables still reach the engine');
});

t.test('password_file: read by the supervisor (trailing newline dropped), in nobody\'s environment', async (t) => {
  const { dir, password, c11n } = await setup(t);
  const file = join(dir, 'db-password');
  writeFileSync(file, `${password}\n`);
  chmodSync(file, 0o600);
  const server = await SpawnedServer.start(t, c11n(`password_file = "${file}"`));
  await logsIn(t, server.port());
  t.notOk(environ(server.child.pid ?? 0).includes(password), 'not in the supervisor environment');
  t.notOk(environ(server.enginePid()).includes(password), 'not in the engine environment');
  t.notOk(server.text.includes(password), 'not in the log');
});

t.test('password_file mistakes are c11n errors: unreadable, empty, or next to password', async (t) => {
  const { dir, c11n } = await setup(t);
  const check = async (line: string) => {
    writeFileSync(join(dir, 'c11n'), c11n(line));
    return run(R2D2, ['check-config', '-p', dir]);
  };
  const missing = await check('password_file = "no-such-file"');
  t.equal(missing.code, 2);
  t.match(missing.stderr, /^c11n:\d+:\d+: password_file "no-such-file": cannot read \S+no-such-file: ENOENT/);
  writeFileSync(join(dir, 'empty'), '\n');
  const empty = await check('password_file = "empty"');
  t.equal(empty.code, 2);
  t.match(empty.stderr, /password_file "empty": \S+ is empty/);
  const both = await check('password = "x"  password_file = "empty"');
  t.equal(both.code, 2);
  t.match(both.stderr, /"password" and "password_file" are the same setting: keep one/);
});
