// The ceiling: an in-memory POP3 responder, what Node on this machine can serve with no file I/O
// and no encoding per request. One process per worker (node:cluster, the kernel spreading
// connections as it does over r2d2's threads); every RETR is one write of a buffer built at
// start. It checks no password: the rows it runs in measure sending, not logging in. On
// `filesPort` it also reads each RETR's message from its file first (open, fstat, read into one
// reused buffer, close) and still sends the prebuilt reply: the least a server that keeps mail in
// files must do per message, so what it reaches there is the most such a server could reach here.
// Run as `node server.js CONFIG.json` (a CeilingConfig); the bench starts and stops it.
import cluster from 'node:cluster';
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { maildrop, type Maildrop } from './wire';

export interface DropFiles {
  readonly files: readonly string[];
  readonly uids: readonly string[];
}

export interface CeilingConfig {
  readonly port: number;
  readonly tls?: { readonly port: number; readonly cert: string; readonly key: string };
  readonly workers: number;
  /** Maildrops of named users; every other user gets `standard`. */
  readonly drops: Readonly<Record<string, DropFiles>>;
  readonly standard: DropFiles;
  /** A second plain port whose sessions read each RETR's file too. */
  readonly filesPort?: number;
}

/** A maildrop as served: its replies, and the files they were built from. */
interface Served {
  readonly wire: Maildrop;
  readonly files: readonly string[];
}

const GREETING = Buffer.from('+OK ceiling ready\r\n');
const OK = Buffer.from('+OK\r\n');
const BYE = Buffer.from('+OK bye\r\n');
const CAPA = Buffer.from('+OK\r\nUSER\r\nUIDL\r\nTOP\r\n.\r\n');
const NO_STATE = Buffer.from('-ERR not in that state\r\n');
const NO_MESSAGE = Buffer.from('-ERR no such message\r\n');
const UNKNOWN = Buffer.from('-ERR unknown command\r\n');

type Session = { user: string; drop: Maildrop | undefined; files: readonly string[] };

let readBuffer = Buffer.alloc(0);

/** Reads a whole file into one buffer kept for the next (what the bytes are does not matter here). */
function readWhole(path: string): void {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (readBuffer.length < size) readBuffer = Buffer.allocUnsafe(Math.max(size, 1 << 20));
    for (let at = 0; at < size; ) {
      const n = readSync(fd, readBuffer, at, size - at, at);
      if (n === 0) break;
      at += n;
    }
  } finally {
    closeSync(fd);
  }
}

function answer(line: string, session: Session, dropOf: (user: string) => Served, readsFiles: boolean): Buffer | 'quit' {
  const space = line.indexOf(' ');
  const verb = (space < 0 ? line : line.slice(0, space)).toUpperCase();
  const arg = space < 0 ? '' : line.slice(space + 1);
  const drop = session.drop;
  switch (verb) {
    case 'USER':
      session.user = arg;
      return OK;
    case 'PASS':
      if (session.user === '' || drop !== undefined) return NO_STATE;
      const served = dropOf(session.user);
      session.drop = served.wire;
      session.files = served.files;
      return OK;
    case 'CAPA':
      return CAPA;
    case 'NOOP':
      return OK;
    case 'QUIT':
      return 'quit';
    case 'STAT':
    case 'LIST':
    case 'UIDL':
      if (drop === undefined) return NO_STATE;
      return verb === 'STAT' ? drop.stat : verb === 'LIST' ? drop.list : drop.uidl;
    case 'RETR':
      if (drop === undefined) return NO_STATE;
      const file = session.files[Number(arg) - 1];
      if (readsFiles && file !== undefined) readWhole(file);
      return drop.retr[Number(arg) - 1] ?? NO_MESSAGE;
    default:
      return UNKNOWN;
  }
}

function serve(socket: Socket, dropOf: (user: string) => Served, readsFiles: boolean): void {
  const session: Session = { user: '', drop: undefined, files: [] };
  let pending = '';
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: Buffer) => {
    pending += chunk.toString('latin1');
    for (let lf = pending.indexOf('\n'); lf >= 0; lf = pending.indexOf('\n')) {
      const line = pending.slice(0, lf).replace(/\r$/, '');
      pending = pending.slice(lf + 1);
      const reply = answer(line, session, dropOf, readsFiles);
      if (reply === 'quit') {
        socket.end(BYE);
        return;
      }
      socket.write(reply);
    }
  });
  socket.write(GREETING);
}

function load(files: DropFiles): Served {
  return { wire: maildrop(files.files.map((f) => readFileSync(f)), files.uids), files: files.files };
}

function worker(config: CeilingConfig): void {
  const standard = load(config.standard);
  const named = new Map(Object.entries(config.drops).map(([user, files]) => [user, load(files)]));
  const dropOf = (user: string): Served => named.get(user) ?? standard;
  createServer((socket) => serve(socket, dropOf, false)).listen({ host: '127.0.0.1', port: config.port });
  if (config.filesPort !== undefined) createServer((socket) => serve(socket, dropOf, true)).listen({ host: '127.0.0.1', port: config.filesPort });
  const tls = config.tls;
  if (tls !== undefined) {
    createTlsServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, (socket) => serve(socket, dropOf, false)).listen({ host: '127.0.0.1', port: tls.port });
  }
}

function primary(config: CeilingConfig): void {
  // The kernel hands each connection to a worker, as it does over r2d2's listening threads.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  for (let i = 0; i < config.workers; i++) cluster.fork();
  // "ready" once every worker listens on every port: the bench measures only from then on.
  let listening = 0;
  cluster.on('listening', () => {
    const ports = 1 + (config.tls === undefined ? 0 : 1) + (config.filesPort === undefined ? 0 : 1);
    if (++listening === config.workers * ports) process.stdout.write('ready\n');
  });
  const stop = (): void => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

const configFile = process.argv[2];
if (configFile === undefined) throw new Error('usage: node server.js CONFIG.json');
const config = JSON.parse(readFileSync(configFile, 'utf8')) as CeilingConfig;
if (cluster.isPrimary) primary(config);
else worker(config);
