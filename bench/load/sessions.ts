// One POP3 session per workload, as a mail client would run it, with checks that the server
// answered what the maildrop holds. Each resolves with the octets received and messages read.
import { BenchError, Pop3Conn } from './pop3-conn';
import type { RunSpec, Target } from './protocol';

export interface SessionOutcome {
  readonly bytes: number;
  readonly messages: number;
  readonly tls: string | undefined;
}

/** USER and PASS; the connection is left in the TRANSACTION state. */
export async function login(target: Target, user: string, password: string, timeoutMs: number): Promise<Pop3Conn> {
  const conn = await Pop3Conn.open(target, timeoutMs);
  try {
    await conn.must(`USER ${user}`);
    await conn.must(`PASS ${password}`);
    return conn;
  } catch (error) {
    conn.close();
    throw error;
  }
}

export async function runSession(spec: RunSpec, user: string): Promise<SessionOutcome> {
  const conn = await login(spec.target, user, spec.password, spec.sessionTimeoutMs);
  try {
    let messages = 0;
    const stat = await conn.must('STAT');
    const count = Number(stat.head.split(' ')[1]);
    if (count !== spec.expectCount) throw new BenchError(`STAT says ${count} messages, expected ${spec.expectCount}`);
    switch (spec.workload) {
      case 'login':
        await conn.must('UIDL', true);
        await conn.must('LIST', true);
        break;
      case 'retrieve':
        await conn.must('UIDL', true);
        await conn.must('LIST', true);
        messages = await retrieveAll(conn, spec.expectSizes);
        break;
      case 'large':
        messages = await retrieveAll(conn, spec.expectSizes);
        break;
      case 'big':
        break;
    }
    await conn.quit();
    return { bytes: conn.received, messages, tls: conn.tls };
  } catch (error) {
    conn.close();
    throw error;
  }
}

async function retrieveAll(conn: Pop3Conn, sizes: readonly number[]): Promise<number> {
  for (let i = 0; i < sizes.length; i++) {
    const reply = await conn.must(`RETR ${i + 1}`, true);
    // The generated messages have no line starting with ".": no dot-stuffing, so the octets
    // before ".\r\n" are exactly the size as served.
    const got = reply.bodyOctets - 3;
    if (got !== sizes[i]) throw new BenchError(`RETR ${i + 1}: ${got} octets, expected ${sizes[i]}`);
  }
  return sizes.length;
}
