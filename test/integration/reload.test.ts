// SIGHUP: the log's level, destination and format, and the listeners, change while a session
// logged in before goes on to its QUIT.
import t, { type Test } from 'tap';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { chownSync, readdirSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { makeCertificates } from '../helpers/certificates';
import { putMessage, sampleMessage } from '../helpers/maildir';
import { Pop3Client } from '../helpers/pop3-client';
import { freePort } from '../helpers/ports';
import { SpawnedServer, spawnedConfig } from '../helpers/spawned-server';
import { databaseAndMail } from '../helpers/test-resources';

const LISTEN_POP3 = 'listen "pop3" { address = "127.0.0.1"  port = 0 }';

/** A UDP syslog collector on loopback: every datagram, as text. */
class Collector {
  readonly lines: string[] = [];
  private constructor(private readonly socket: UdpSocket) {
    socket.on('message', (data) => this.lines.push(data.toString()));
  }

  static async open(): Promise<Collector> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new Collector(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines.find((l) => pattern.test(l));
      if (line !== undefined) return line;
      if (Date.now() > deadline) throw new Error(`not received: ${pattern}\n${this.lines.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  close(): void {
    this.socket.close();
  }
}

async function setup(t: Test) {
  const { db, mail } = await databaseAndMail(t);
  const user = async (name: string): Promise<string> => {
    const md = mail.maildir(name);
    putMessage(md, sampleMessage(1));
    putMessage(md, sampleMessage(2));
    await db.addUser(name, 'pw', md);
    return md;
  };
  return { db, mail, user };
}

const files = (md: string): number => readdirSync(join(md, 'new')).length + readdirSync(join(md, 'cur')).length;

t.test('log level, destination, format and tag change at SIGHUP; a live session goes on and logs to the new place', async (t) => {
  const { db, mail, user } = await setup(t);
  const collector = await Collector.open();
  t.teardown(() => collector.close());
  const server = await SpawnedServer.start(t, spawnedConfig(db.name, mail.path));
  const md = await user('henry');
  const { client: henry } = await Pop3Client.greeted(server.port());
  t.teardown(() => henry.destroy());
  t.ok((await henry.login('henry', 'pw')).ok);
  t.ok((await henry.cmd('DELE 1')).ok);
  const session = (await server.waitFor(/\[(\d+)\] login ok user="henry"/))[1];

  const reloaded = spawnedConfig(
    db.name,
    mail.path,
    `identity = r2d2.reloaded
log { destination = udp  udp_address = "127.0.0.1:${collector.port}"  format = rfc5424  level = debug }
limits { auth_failure_delay_ms = 1 }`,
  );
  writeFileSync(join(server.dir, 'c11n'), reloaded);
  const mark = server.text.length;
  server.child.kill('SIGHUP');
  // RFC 5424 (<PRI>1 TIMESTAMP HOST APP PID - - MSG) with the new tag, from the engine and every worker.
  await collector.waitFor(/^<22>1 \S+ \S+ r2d2\.reloaded \d+ - - SIGHUP: configuration reloaded$/);

  t.ok((await henry.cmd('STAT')).ok, 'the session logged in before the SIGHUP goes on');
  t.same(await henry.cmd('QUIT'), { ok: true, text: 'r2d2 signing off (1 message deleted)' });
  await collector.waitFor(new RegExp(`^<22>1 \\S+ \\S+ r2d2\\.reloaded \\d+ - - \\[${session}\\] disconnected: peer quit, `));
  t.ok(collector.lines.some((l) => l.includes(`[${session}] update done user="henry" deleted="1"`)), 'its UPDATE logged to the collector');
  t.equal(files(md), 1);
  t.notMatch(server.text.slice(mark), new RegExp(`\\[${session}\\]`), 'nothing of it on stdout any more');

  // debug now: a failed login's delay line (<23>: mail.debug).
  const { client: stranger } = await Pop3Client.greeted(server.port());
  t.teardown(() => stranger.destroy());
  t.notOk((await stranger.login('henry', 'wrong')).ok);
  await collector.waitFor(/^<23>1 \S+ \S+ r2d2\.reloaded \d+ - - \[\d+\] login failure delay delayMs="1"$/);
});

t.test('listeners added and removed at SIGHUP; a session on a removed one goes on to QUIT', async (t) => {
  const { db, mail, user } = await setup(t);
  const root = process.getuid?.() === 0;
  // As the systemd unit runs it: an unprivileged user with only CAP_NET_BIND_SERVICE, which the
  // binder child inherits to bind a port below 1024 at reload. Elsewhere: a port above 1024.
  // (env -u: tap's process tracking, which its spawn puts back into NODE_OPTIONS, cannot write as nobody.)
  const wrap = ['env', '-u', 'NODE_OPTIONS', 'setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--inh-caps=+net_bind_service', '--ambient-caps=+net_bind_service'];
  const added = root ? await freeLowPort() : await freePort();
  const busy = await occupiedPort(t);
  const ivanMd = await user('ivan');
  await user('judy');
  if (root) chownTree(mail.path);
  const server = await SpawnedServer.start(t, spawnedConfig(db.name, mail.path), {}, root ? { wrap } : {});
  const oldPort = server.port('pop3');
  const { client: ivan } = await Pop3Client.greeted(oldPort);
  t.teardown(() => ivan.destroy());
  t.ok((await ivan.login('ivan', 'pw')).ok);
  t.ok((await ivan.cmd('DELE 1')).ok);

  const listeners = `listen "extra" { address = "127.0.0.1"  port = ${added} }\nlisten "busy" { address = "127.0.0.1"  port = ${busy} }`;
  writeFileSync(join(server.dir, 'c11n'), spawnedConfig(db.name, mail.path, '', 3).replace(LISTEN_POP3, listeners));
  server.child.kill('SIGHUP');
  await server.waitFor(/SIGHUP: configuration reloaded/);
  const port = server.port('extra');
  t.equal(port, added, root ? `bound port ${added} as nobody, by the capability alone` : 'bound');
  t.match(server.text, /listener removed: no new connections; its sessions go on listener="pop3"/);
  t.match(server.text, new RegExp(`SIGHUP: listener not opened reason="listen \\\\"busy\\\\": .*EADDRINUSE`), 'a port in use is logged');
  t.match(server.text, /SIGHUP: threads changed; that needs a restart and is not applied/);

  const { client: judy } = await Pop3Client.greeted(port);
  t.teardown(() => judy.destroy());
  t.ok((await judy.login('judy', 'pw')).ok, 'the added listener serves');
  t.match(server.text, /connected peer="127\.0\.0\.1" listener="extra"/);
  t.equal(await connectError(oldPort), 'ECONNREFUSED', 'the removed listener accepts no more');

  t.ok((await ivan.cmd('STAT')).ok, 'the session on the removed listener goes on');
  t.same(await ivan.cmd('QUIT'), { ok: true, text: 'r2d2 signing off (1 message deleted)' });
  t.equal(files(ivanMd), 1, 'and its QUIT applied its deletion');

  // Renamed, on the same address and port, it keeps its socket, and takes new settings: STLS.
  const certs = makeCertificates();
  t.teardown(() => certs.remove());
  if (root) chownTree(certs.dir);
  const stls = `listen "renamed" { address = "127.0.0.1"  port = ${added}  tls = stls  certificate = "${certs.cert}"  private_key = "${certs.key}" }`;
  writeFileSync(join(server.dir, 'c11n'), spawnedConfig(db.name, mail.path, '', 3).replace(LISTEN_POP3, stls));
  server.child.kill('SIGHUP');
  await server.waitFor(/SIGHUP: configuration reloaded(.|\n)*SIGHUP: configuration reloaded/);
  t.equal(server.count(new RegExp(`listening on 127\\.0\\.0\\.1:${port} `)), 1, 'not bound again');
  t.match(server.text, new RegExp(`listener renamed: 127\\.0\\.0\\.1:${port} stays open listener="renamed" was="extra"`));
  const { client: secure } = await Pop3Client.greeted(port);
  t.teardown(() => secure.destroy());
  t.ok((await secure.cmd('CAPA')).lines?.includes('STLS'), 'new connections are offered STLS');
  await server.waitFor(/connected peer="127\.0\.0\.1" listener="renamed" tls="stls offered"/);
  t.ok((await judy.cmd('STAT')).ok, 'the session from before goes on');
  await judy.cmd('QUIT');
});

/** A free port below 1024 on 127.0.0.1 (tried by binding it, as root). */
async function freeLowPort(): Promise<number> {
  for (let port = 999; port > 900; port--) {
    const server = createServer();
    const free = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (free) {
      await new Promise((resolve) => server.close(resolve));
      return port;
    }
  }
  throw new Error('no free port between 901 and 999');
}

/** A port the test holds, so that binding it fails. */
async function occupiedPort(t: Test): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
}

function connectError(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/** The maildirs belong to the user the server runs as (nobody). */
function chownTree(path: string): void {
  chownSync(path, 65534, 65534);
  for (const entry of readdirSync(path, { withFileTypes: true, recursive: true })) {
    chownSync(join(entry.parentPath ?? entry.path, entry.name), 65534, 65534);
  }
}
