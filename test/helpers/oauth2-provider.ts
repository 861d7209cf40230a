// A local identity provider over https (node:https, a certificate from a throwaway CA): it serves
// a JWKS the test may swap (key rotation) and an RFC 7662 introspection endpoint that knows the
// opaque tokens the test registers. It counts what it is asked, for the refresh rules.
import { createServer, type Server } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { CertificateSet } from './certificates';

export const JWKS_PATH = '/realms/mail/protocol/openid-connect/certs';
export const INTROSPECTION_PATH = '/realms/mail/protocol/openid-connect/token/introspect';
export const CLIENT_ID = 'r2d2';
export const CLIENT_SECRET = 'intro:spection s3cret';

export class TestProvider {
  /** What the JWKS endpoint serves now. */
  jwks: unknown = { keys: [] };
  jwksRequests = 0;
  introspections = 0;
  /** Opaque token -> the introspection answer for it (unknown tokens are inactive). */
  readonly opaque = new Map<string, Record<string, unknown>>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(certs: CertificateSet): Promise<TestProvider> {
    const server = createServer({ cert: readFileSync(certs.cert), key: readFileSync(certs.key) });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const provider = new TestProvider(server, (server.address() as AddressInfo).port);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const answer = provider.answer(req.method ?? '', req.url ?? '', req.headers.authorization, Buffer.concat(chunks).toString());
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer.body));
      });
    });
    return provider;
  }

  url(path: string): string {
    return `https://localhost:${this.port}${path}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private answer(method: string, path: string, authorization: string | undefined, body: string): { status: number; body: unknown } {
    if (method === 'GET' && path === JWKS_PATH) {
      this.jwksRequests++;
      return { status: 200, body: this.jwks };
    }
    if (method === 'POST' && path === INTROSPECTION_PATH) {
      this.introspections++;
      const expected = `Basic ${Buffer.from(`${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(CLIENT_SECRET)}`).toString('base64')}`;
      if (authorization !== expected) return { status: 401, body: { error: 'invalid_client' } };
      const token = new URLSearchParams(body).get('token') ?? '';
      return { status: 200, body: this.opaque.get(token) ?? { active: false } };
    }
    return { status: 404, body: { error: 'not found' } };
  }
}
