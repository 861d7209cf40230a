import type { Test } from 'tap';
import { makeCertificates, type CertificateSet } from './certificates';
import { fixture, type Fixture } from './fixture';
import { MailRoot } from './maildir';
import { TestDatabase } from './mariadb';
import type { TestServerOptions } from './test-server';

export interface TlsFixture extends Fixture {
  readonly certs: CertificateSet;
  /** Plain port with STLS (plaintext_auth never). */
  readonly stlsPort: number;
  /** Implicit TLS (POP3S). */
  readonly implicitPort: number;
}

/** A server with an STLS listener ("stls") and an implicit-TLS listener ("pop3s"), both with SNI for other.test. */
export async function tlsFixture(t: Test, options: Partial<TestServerOptions> & { handshakeTimeout?: number } = {}): Promise<TlsFixture> {
  const certs = makeCertificates();
  t.teardown(() => certs.remove());
  const files = `certificate = "${certs.cert}"  private_key = "${certs.key}"
  sni "other.test" { certificate = "${certs.otherCert}"  private_key = "${certs.otherKey}" }`;
  const listeners = `
listen "stls" {
  address = "127.0.0.1"  port = 0  tls = stls  ${files}
}
listen "pop3s" { address = "127.0.0.1"  port = 0  tls = implicit  ${files}  handshake_timeout = ${options.handshakeTimeout ?? 5} }
`;
  const f = await fixture(t, { listeners, ...options });
  return { ...f, certs, stlsPort: f.server.portOf('stls'), implicitPort: f.server.portOf('pop3s') };
}

/** A database, a mail root and certificates for a spawned server's TLS test; all removed at teardown. */
export interface SpawnedTlsParts {
  readonly db: TestDatabase;
  readonly mail: MailRoot;
  readonly certs: CertificateSet;
}

export async function spawnedTlsParts(t: Test): Promise<SpawnedTlsParts> {
  const db = await TestDatabase.create();
  const mail = new MailRoot();
  const certs = makeCertificates();
  t.teardown(async () => {
    await db.drop();
    mail.remove();
    certs.remove();
  });
  return { db, mail, certs };
}
