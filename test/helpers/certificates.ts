import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertificateSet {
  readonly dir: string;
  /** The test CA that signed everything: clients pass it as --cacert / cafile. */
  readonly ca: string;
  /** localhost + 127.0.0.1 */
  readonly cert: string;
  readonly key: string;
  /** Second certificate for SNI name other.test */
  readonly otherCert: string;
  readonly otherKey: string;
  /** A key that belongs to no certificate here. */
  readonly strayKey: string;
  remove(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function signed(dir: string, name: string, subjectAltName: string): void {
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
  writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${subjectAltName}\nextendedKeyUsage=serverAuth\n`);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '30', '-out', `${name}.pem`, '-extfile', `${name}.ext`]);
}

/** A throwaway CA and server certificates made with the real openssl. */
export function makeCertificates(): CertificateSet {
  const dir = mkdtempSync(join(tmpdir(), 'r2d2-certs-'));
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '30', '-subj', '/CN=r2d2 test CA']);
  signed(dir, 'localhost', 'DNS:localhost,IP:127.0.0.1');
  signed(dir, 'other.test', 'DNS:other.test');
  openssl(dir, ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'stray.key']);
  return {
    dir,
    ca: join(dir, 'ca.pem'),
    cert: join(dir, 'localhost.pem'),
    key: join(dir, 'localhost.key'),
    otherCert: join(dir, 'other.test.pem'),
    otherKey: join(dir, 'other.test.key'),
    strayKey: join(dir, 'stray.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
