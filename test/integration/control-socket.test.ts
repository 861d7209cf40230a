// `r2d2 who`, `kick` and `status` against a spawned server (supervisor, engine, two worker
// threads) and its live sessions, through the real CLI and the control socket.
import t, { type Test } from 'tap';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { putMessage, sampleMessage } from '../helpers/maildir';
import { Pop3Client } from '../helpers/pop3-client';
import { run } from '../helpers/run';
import { SpawnedServer, spawnedConfig } from '../helpers/spawned-server';
import { databaseAndMail, tempDir } from '../helpers/test-resources';
import type { SessionInfo } from '../../src/server/live-sessions';

const R2D2 = join(__dirname, '../../../bin/r2d2');
// Without tap's loaders, as an operator runs it.
const { NODE_OPTIONS: _ignored, ...ENV } = process.env;

/** One server for the whole file (a start costs seconds on a loaded machine); each test has its own users. */
async function setup(t: Test) {
  const { db, mail } = await databaseAndMail(t);
  const runDir = tempDir(t, 'r2d2-run-');
  const socket = join(runDir, 'control');
  const server = await SpawnedServer.start(t, spawnedConfig(db.name, mail.path, `control_socket = "${socket}"`));
  const client = async (t: Test, from?: string): Promise<Pop3Client> => {
    const { client: c } = await Pop3Client.greeted(server.port(), from);
    t.teardown(() => c.destroy());
    return c;
  };
  const user = async (name: string, messages = 2): Promise<string> => {
    const md = mail.maildir(name);
    for (let i = 0; i < messages; i++) putMessage(md, sampleMessage(i));
    await db.addUser(name, 'pw', md);
    return md;
  };
  const cli = (...args: string[]) => run(R2D2, args, { env: ENV });
  /** Waits until every session of an earlier test has logged its disconnect line. */
  const quiet = async (): Promise<void> => {
    const deadline = Date.now() + 30_000;
    while (server.count(/\] connected /) !== server.count(/\] disconnected: /)) {
      if (Date.now() > deadline) throw new Error(`sessions still open:\n${server.text}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  return { server, socket, client, user, cli, quiet };
}

const files = (md: string): number => readdirSync(join(md, 'new')).length + readdirSync(join(md, 'cur')).length;

t.test('control socket', async (t) => {
  const { server, socket, client, user, cli, quiet } = await setup(t);

  t.test('status prints the SIGUSR1 figures', async (t) => {
    await quiet();
    await user('erin');
    const erin = await client(t);
    t.ok((await erin.login('erin', 'pw')).ok);
    const status = await cli('status', '-p', server.dir);
    t.equal(status.code, 0, status.stderr);
    const text = status.stdout.toString();
    t.match(text, /^threads: 2\nconnections: 1\nworkers: 0: \d sessions, heap \d+ MiB; 1: \d sessions, heap \d+ MiB\nrss: \d+ MiB\ndatabase pool per worker: 2\nworker restarts: 0\n$/);
    const json = JSON.parse((await cli('status', '-s', socket, '--json')).stdout.toString()) as { workers: Array<{ sessions: number }> };
    t.equal(json.workers.reduce((n, w) => n + w.sessions, 0), 1, 'one session across the workers');
  });

  t.test('who lists every session with its user, peer, listener, start, state, octets sent and worker', async (t) => {
    await quiet();
    t.equal(statSync(socket).mode & 0o777, 0o600, 'the socket is mode 0600');
    t.equal(statSync(socket).uid, process.getuid?.(), 'owned by the user the engine runs as');
    await user('alice');
    await user('bob');
    const before = Date.now();
    const alice = await client(t);
    t.ok((await alice.login('alice', 'pw')).ok);
    t.ok((await alice.cmd('RETR 1')).ok);
    const bob = await client(t);
    t.ok((await bob.login('bob', 'pw')).ok);
    const anonymous = await client(t);
    await server.waitFor(/login ok user="bob"/);

    const who = await cli('who', '-p', server.dir, '--json');
    t.equal(who.code, 0, who.stderr);
    const sessions = JSON.parse(who.stdout.toString()) as SessionInfo[];
    t.equal(sessions.length, 3);
    const byUser = (name: string | undefined) => sessions.find((s) => s.user === name);
    for (const [name, socketOf] of [['alice', alice], ['bob', bob], [undefined, anonymous]] as const) {
      const s = byUser(name);
      if (s === undefined) {
        t.fail(`no session for ${name}`);
        continue;
      }
      t.equal(s.state, name === undefined ? 'AUTHORIZATION' : 'TRANSACTION', `${name}: state`);
      t.equal(s.peer, '127.0.0.1');
      t.equal(s.listener, 'pop3');
      t.ok(Date.parse(s.since) >= before - 1000 && Date.parse(s.since) <= Date.now(), `${name}: since ${s.since}`);
      t.equal(s.bytesSent, socketOf.socket.bytesRead, `${name}: every octet the client received`);
      const logged = new RegExp(`\\[${s.session}\\] connected .*worker="(\\d)"`).exec(server.text)?.[1];
      t.equal(String(s.worker), logged, `${name}: the worker its connect line names`);
    }
    t.ok((byUser('alice')?.bytesSent ?? 0) > (byUser('bob')?.bytesSent ?? 0), 'the RETR counted');

    const table = await cli('who', '-p', server.dir);
    const lines = table.stdout.toString().trimEnd().split('\n');
    t.match(lines[0], /^SESSION +USER +PEER +LISTENER +SINCE +STATE +SENT +WORKER +TLS$/);
    t.equal(lines.length, 4);
    t.match(table.stdout.toString(), /\balice +127\.0\.0\.1 +pop3 +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ +TRANSACTION +\d+ +[01] +-/);
    const one = await cli('who', 'BOB', '-s', socket, '--json');
    t.same((JSON.parse(one.stdout.toString()) as SessionInfo[]).map((s) => s.user), ['bob'], 'who USER filters (names compared as the database does)');
  });

  t.test('kick USER: -ERR [SYS/TEMP], no deletion applied, "kicked" in the disconnect line; others go on', async (t) => {
    await quiet();
    const frankMd = await user('frank', 3);
    await user('grace');
    const frank = await client(t);
    t.ok((await frank.login('frank', 'pw')).ok);
    t.ok((await frank.cmd('DELE 1')).ok);
    t.ok((await frank.cmd('DELE 2')).ok);
    const grace = await client(t);
    t.ok((await grace.login('grace', 'pw')).ok);
    const session = (await server.waitFor(/\[(\d+)\] login ok user="frank"/))[1];

    const kick = await cli('kick', '-p', server.dir, 'Frank');
    t.equal(kick.code, 0, kick.stderr);
    t.equal(kick.stdout.toString(), 'kicked 1 session\n');
    const notice = await frank.readStatus();
    t.same(notice, { ok: false, text: '[SYS/TEMP] disconnected by the server administrator' });
    await frank.waitClosed();
    await server.waitFor(new RegExp(`\\[${session}\\] disconnected: kicked, `));
    t.equal(files(frankMd), 3, 'both DELEs were not applied');
    t.notMatch(server.text, /update done user="frank"/);
    t.match(await grace.cmd('STAT'), { ok: true, text: /^2 \d+$/ }, 'grace goes on');

    const none = await cli('kick', '-p', server.dir, 'frank');
    t.equal(none.code, 1, 'nothing to kick: exit 1');
    t.equal(none.stdout.toString(), 'kicked 0 sessions\n');
    const again = await client(t);
    t.ok((await again.login('frank', 'pw')).ok, 'the maildrop lock was released');
    t.equal((await again.cmd('STAT')).text.split(' ')[0], '3');
  });

  t.test('kick --peer ends every session from that address, logged in or not', async (t) => {
    await quiet();
    await user('carol');
    await user('dave');
    const carol = await client(t, '127.0.0.2');
    t.ok((await carol.login('carol', 'pw')).ok);
    const stranger = await client(t, '127.0.0.2');
    const dave = await client(t, '127.0.0.1');
    t.ok((await dave.login('dave', 'pw')).ok);
    const kickedBefore = server.count(/disconnected: kicked/);
    const kick = await cli('kick', '-p', server.dir, '--peer', '127.0.0.2');
    t.equal(kick.code, 0, kick.stderr);
    t.equal(kick.stdout.toString(), 'kicked 2 sessions\n');
    for (const c of [carol, stranger]) {
      t.same(await c.readStatus(), { ok: false, text: '[SYS/TEMP] disconnected by the server administrator' });
      await c.waitClosed();
    }
    t.equal(server.count(/disconnected: kicked/), kickedBefore + 2);
    t.ok((await dave.cmd('STAT')).ok, 'the session from 127.0.0.1 goes on');
    const usage = await cli('kick', '-p', server.dir);
    t.equal(usage.code, 2);
    t.match(usage.stderr, /name a USER or give --peer/);
  });

  t.test('an engine restarted after kill -9 replaces its stale socket', async (t) => {
    process.kill(server.enginePid(), 'SIGKILL');
    await server.waitFor(/engine ready(.|\n)*engine ready/, 60_000);
    const after = await cli('status', '-s', socket);
    t.equal(after.code, 0, after.stderr);
    t.match(after.stdout.toString(), /^connections: 0$/m, 'a new engine answers on the same path');
  });

  t.test('the socket file goes with the server; no control socket: a clear error', async (t) => {
    server.child.kill('SIGTERM');
    t.equal(await server.exited, 0);
    t.throws(() => statSync(socket), 'removed at exit');
    const down = await cli('who', '-s', socket);
    t.equal(down.code, 2);
    t.match(down.stderr, /r2d2 is not running/);
    const dir = tempDir(t, 'r2d2-nosock-');
    writeFileSync(join(dir, 'c11n'), 'control_socket = none\npassword = "${NOT_SET_HERE}"\n');
    const off = await cli('who', '-p', dir);
    t.equal(off.code, 2);
    t.match(off.stderr, /no control socket/);
  });
});
