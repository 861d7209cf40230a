// The lab's deleting clients: one per user, as a mail client that does not keep mail on the
// server would run it, through the balancer: log in, UIDL, RETR every message, stay a moment,
// DELE them all, QUIT. Each session is recorded (its source port, times, the lab ids served and
// whether QUIT answered +OK) so the lab can tell whether a message was lost, or served again
// after a QUIT that deleted it. [IN-USE] and broken connections are retried.
import { Pop3Client } from '../../test/helpers/pop3-client';
import type { ClientSpec, DeleterSession, SessionOutcome } from './client-spec';

const RETRY_MS = 200;
const PAUSE_MS = 50;

/** The lab id a message carries in its `X-Lab-Id:` header. */
export function labIdOf(body: Buffer | undefined): string {
  const match = /^X-Lab-Id: (\S+)\r?$/m.exec(body?.toString('latin1') ?? '');
  return match?.[1] ?? '?';
}

export async function deleterLoop(spec: ClientSpec, user: string): Promise<DeleterSession[]> {
  const sessions: DeleterSession[] = [];
  while (Date.now() < spec.deadline) {
    const session = await oneSession(spec, user);
    sessions.push(session);
    await new Promise((resolve) => setTimeout(resolve, session.outcome === 'refused' || session.outcome === 'broken' ? RETRY_MS : PAUSE_MS));
  }
  return sessions;
}

async function oneSession(spec: ClientSpec, user: string): Promise<DeleterSession> {
  const connectedAt = Date.now();
  let client: Pop3Client;
  try {
    ({ client } = await Pop3Client.greeted(spec.balancer.port, undefined, spec.balancer.host));
  } catch (error) {
    return { user, port: 0, connectedAt, loginAt: undefined, endedAt: Date.now(), outcome: 'broken', quitSent: false, served: [], error: `connect: ${String(error)}` };
  }
  const port = client.socket.localPort ?? 0;
  let loginAt: number | undefined;
  let quitSent = false;
  const served: string[] = [];
  const done = (outcome: SessionOutcome, error?: string): DeleterSession => ({ user, port, connectedAt, loginAt, endedAt: Date.now(), outcome, quitSent, served, error });
  try {
    const login = await client.login(user, spec.password);
    if (!login.ok) {
      await client.cmd('QUIT').catch(() => undefined);
      return done('refused', login.text);
    }
    loginAt = Date.now();
    const uidl = await client.cmd('UIDL');
    const numbers = (uidl.lines ?? []).map((l) => Number(l.split(' ')[0]));
    for (const n of numbers) {
      const retr = await client.cmd(`RETR ${n}`);
      if (!retr.ok) return await quitKeeping(client, done, `RETR ${n}: ${retr.text}`);
      served.push(labIdOf(retr.body));
    }
    await new Promise((resolve) => setTimeout(resolve, spec.holdMs));
    for (const n of numbers) {
      const dele = await client.cmd(`DELE ${n}`);
      if (!dele.ok) return await quitKeeping(client, done, `DELE ${n}: ${dele.text}`);
    }
    quitSent = numbers.length > 0;
    const quit = await client.cmd('QUIT');
    if (!quit.ok) return done('quit-refused', quit.text);
    return done(numbers.length > 0 ? 'deleted' : 'kept');
  } catch (error) {
    return done('broken', error instanceof Error ? error.message : String(error));
  } finally {
    client.destroy();
  }
}

/** An -ERR mid-session (a lock lost): QUIT without having marked anything, and say why. */
async function quitKeeping(client: Pop3Client, done: (outcome: SessionOutcome, error?: string) => DeleterSession, why: string): Promise<DeleterSession> {
  await client.cmd('QUIT').catch(() => undefined);
  return done('kept', why);
}
