// `r2d2 who`, `r2d2 kick` and `r2d2 status`: questions to a running server over its control
// socket (server/control-socket.ts), found through the personality's `control_socket`.
import type { Command } from 'commander';
import { foldLogin } from '../accounts/fold-login';
import { OperatorError } from '../config/operator-error';
import { readControlSocket } from '../config/read-control-socket';
import { escapeMessage } from '../log/line-format';
import type { ControlReply, ControlRequest, StatusFigures } from '../server/control-protocol';
import { describeWorkers } from '../server/control-protocol';
import type { SessionInfo } from '../server/live-sessions';
import { askControl, ControlError } from './control-client';

interface Where {
  personality?: string;
  socket?: string;
}

/** Exit status of `kick` when no session matched (grep's "nothing found"). */
export const NOTHING_KICKED = 1;

export function registerControl(program: Command, personalityOf: (option: string | undefined) => string): void {
  const where = (command: Command): Command =>
    command
      .option('-p, --personality <dir>', 'personality folder whose control_socket to use (default: $SERVER_PERSONALITY_PATH)')
      .option('-s, --socket <path>', 'the control socket itself, instead of the personality\'s');
  const socketOf = (options: Where): string => options.socket ?? controlSocketOf(personalityOf(options.personality));

  where(program.command('who').description('list the sessions in progress').argument('[user]', 'only this user\'s sessions'))
    .option('--json', 'one JSON array of sessions')
    .action(async (user: string | undefined, options: Where & { json?: boolean }) => {
      const reply = expect(await askControl(socketOf(options), { command: 'who' }), 'who');
      const sessions = user === undefined ? reply.sessions : reply.sessions.filter((s) => s.user !== undefined && foldLogin(s.user) === foldLogin(user));
      process.stdout.write(options.json === true ? JSON.stringify(sessions) + '\n' : formatSessions(sessions));
      warnUnanswered(reply.unanswered);
    });

  where(
    program
      .command('kick')
      .description('end sessions as a shutdown would: -ERR [SYS/TEMP], their deletions not applied')
      .argument('[user]', 'every logged-in session of this user')
      .option('--peer <address>', 'every session from this client address'),
  ).action(async (user: string | undefined, options: Where & { peer?: string }) => {
    if ((user === undefined) === (options.peer === undefined)) throw new OperatorError('r2d2 kick: name a USER or give --peer ADDRESS (one of them)');
    const request: ControlRequest = user !== undefined ? { command: 'kick', user } : { command: 'kick', peer: options.peer ?? '' };
    const reply = expect(await askControl(socketOf(options), request), 'kick');
    process.stdout.write(`kicked ${reply.kicked} session${reply.kicked === 1 ? '' : 's'}\n`);
    warnUnanswered(reply.unanswered);
    if (reply.kicked === 0) process.exitCode = NOTHING_KICKED;
  });

  where(program.command('status').description('the figures SIGUSR1 logs: threads, connections, sessions per worker, memory'))
    .option('--json', 'the figures as one JSON object')
    .action(async (options: Where & { json?: boolean }) => {
      const { status } = expect(await askControl(socketOf(options), { command: 'status' }), 'status');
      process.stdout.write(options.json === true ? JSON.stringify(status) + '\n' : formatStatus(status));
    });
}

function controlSocketOf(personality: string): string {
  const path = readControlSocket(personality, process.env);
  if (path === undefined) {
    throw new ControlError(
      `${personality}/c11n: no control socket (control_socket is unset and /run/r2d2 does not exist, or it is none); is r2d2 running?`,
    );
  }
  return path;
}

function expect<C extends Extract<ControlReply, { ok: true }>['command']>(reply: ControlReply, command: C): Extract<ControlReply, { command: C }> {
  if (!reply.ok) throw new ControlError(`r2d2 ${command}: ${reply.error}`);
  if (reply.command !== command) throw new ControlError(`r2d2 ${command}: unexpected answer`);
  return reply as Extract<ControlReply, { command: C }>;
}

function warnUnanswered(slots: readonly number[]): void {
  if (slots.length > 0) process.stderr.write(`warning: worker thread(s) ${slots.join(', ')} did not answer in time: their sessions are missing\n`);
}

const COLUMNS = ['SESSION', 'USER', 'PEER', 'LISTENER', 'SINCE', 'STATE', 'SENT', 'WORKER', 'TLS'] as const;

/** A table, one session a line, columns padded; client-supplied text has its control characters escaped. */
export function formatSessions(sessions: readonly SessionInfo[]): string {
  const rows = sessions.map((s) => [
    String(s.session),
    s.user === undefined ? '-' : escapeMessage(s.user),
    s.peer,
    escapeMessage(s.listener),
    s.since.replace(/\.\d+Z$/, 'Z'),
    s.state,
    String(s.bytesSent),
    String(s.worker),
    s.tls ?? '-',
  ]);
  const widths = COLUMNS.map((title, i) => Math.max(title.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ') + '\n';
  return line(COLUMNS) + rows.map(line).join('');
}

export function formatStatus(status: StatusFigures): string {
  return [
    `threads: ${status.threads}`,
    `connections: ${status.connections}`,
    `workers: ${describeWorkers(status.workers)}`,
    `rss: ${status.rssMiB} MiB`,
    `database pool per worker: ${status.databasePoolPerWorker}`,
    `worker restarts: ${status.restarts}`,
  ].join('\n') + '\n';
}
