// One self-signed RSA-2048 certificate for 127.0.0.1/localhost, used by both servers.
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export interface Certificate {
  readonly cert: string;
  readonly key: string;
}

/** `owner`: who may read the key besides root (the user r2d2's sessions run as). */
export function makeCertificate(dir: string, owner: { uid: number; gid: number }): Certificate {
  mkdirSync(dir, { recursive: true });
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  for (const f of [cert, key]) chownSync(f, owner.uid, owner.gid);
  return { cert, key };
}
