// Courier's POP3 server (Debian's courier-pop, unpacked privately by scripts/fetch-courier.sh:
// it conflicts with dovecot-pop3d, so it is never installed) for one test, on a loopback port.
//
// Courier splits POP3 in two programs: courierpop3login answers the AUTHORIZATION state and
// asks courier-authlib's authdaemond (a socket and modules at paths compiled into the
// packages), then execs courierpop3d with the user's environment (AUTHENTICATED, MAILDIR).
// Here a spawn-per-connection wrapper plays courierpop3login's part for one user and password
// (greeting, CAPA, USER, PASS), then hands the connection to a real courierpop3d started with
// that environment: every reply after PASS, UIDL and the courierpop3dsizelist it keeps
// included, is Courier's own.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';

const ROOT = join(process.env['R2D2_TEST_CACHE'] ?? '/var/cache/r2d2-test', 'courier', 'root');
const POP3D = join(ROOT, 'usr/lib/courier/courier/courierpop3d');

/** The unpacked packages, fetched (scripts/fetch-courier.sh) when missing. */
export function courierRoot(): string {
  if (!existsSync(POP3D)) execFileSync('bash', [join(__dirname, '../../../scripts/fetch-courier.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  return ROOT;
}

export interface CourierPop3Options {
  readonly user: string;
  readonly password: string;
  readonly maildir: string;
}

export class CourierPop3 {
  private readonly children = new Set<ChildProcess>();
  private readonly sockets = new Set<Socket>();
  /** courierpop3d's stderr (its LOGIN/LOGOUT lines), for failure messages. */
  readonly log: string[] = [];

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly options: CourierPop3Options,
  ) {}

  static async start(options: CourierPop3Options): Promise<CourierPop3> {
    courierRoot();
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const instance = new CourierPop3(server, typeof address === 'object' && address !== null ? address.port : 0, options);
    server.on('connection', (socket) => instance.serve(socket));
    return instance;
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = Buffer.alloc(0);
    let user: string | undefined;
    const reply = (line: string): boolean => socket.write(`${line}\r\n`);
    const onData = (data: Buffer): void => {
      buffered = Buffer.concat([buffered, data]);
      for (let end = buffered.indexOf(0x0a); end >= 0; end = buffered.indexOf(0x0a)) {
        const line = buffered.subarray(0, end).toString('latin1').replace(/\r$/, '');
        buffered = buffered.subarray(end + 1);
        const [verb = '', ...args] = line.split(' ');
        const command = verb.toUpperCase();
        if (command === 'CAPA') reply("+OK Here's what I can do:\r\nUSER\r\nLOGIN-DELAY 10\r\nTOP\r\nUIDL\r\nIMPLEMENTATION Courier Mail Server\r\n.");
        else if (command === 'USER') (user = args.join(' ')), reply('+OK Password required.');
        else if (command === 'QUIT') reply('+OK Better luck next time.'), socket.end();
        else if (command === 'PASS' && user === this.options.user && args.join(' ') === this.options.password) {
          socket.off('data', onData);
          this.handOver(socket, buffered);
          return;
        } else if (command === 'PASS') (user = undefined), reply('-ERR Login failed.');
        else reply('-ERR Invalid command.');
      }
    };
    socket.on('data', onData);
    reply('+OK Hello there.');
  }

  /** What courierpop3login does after a login: exec courierpop3d with the user's environment. */
  private handOver(socket: Socket, pending: Buffer): void {
    const lib = `${join(ROOT, 'usr/lib')}:${join(ROOT, 'usr/lib/x86_64-linux-gnu')}`;
    const env = { PATH: '/usr/bin:/bin', LD_LIBRARY_PATH: lib, AUTHENTICATED: this.options.user, MAILDIR: this.options.maildir, TCPREMOTEIP: socket.remoteAddress ?? '127.0.0.1', TCPREMOTEPORT: String(socket.remotePort ?? 0) };
    const child = spawn(POP3D, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.children.add(child);
    child.on('exit', () => {
      this.children.delete(child);
      socket.end();
    });
    child.stderr.on('data', (d: Buffer) => this.log.push(d.toString()));
    child.stdin.on('error', () => undefined);
    child.stdout.pipe(socket);
    if (pending.length > 0) child.stdin.write(pending);
    socket.pipe(child.stdin);
  }

  async stop(): Promise<void> {
    const exits = [...this.children].map((child) => new Promise((resolve) => child.once('exit', resolve)));
    for (const child of this.children) child.kill('SIGKILL');
    await Promise.all(exits);
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
