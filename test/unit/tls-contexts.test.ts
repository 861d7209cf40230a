import t from 'tap';
import { readFileSync } from 'node:fs';
import { makeCertificates } from '../helpers/certificates';
import { TlsConfigError, TlsContexts } from '../../src/server/tls-contexts';
import type { TlsConfig } from '../../src/config/types';

const certs = makeCertificates();
t.teardown(() => certs.remove());

const config = (overrides: Partial<TlsConfig> = {}): TlsConfig => ({
  certificate: certs.cert,
  privateKey: certs.key,
  passphrase: undefined,
  minVersion: 'TLSv1.2',
  ciphers: undefined,
  sni: [{ serverName: '*.example.test', certificate: certs.otherCert, privateKey: certs.otherKey, passphrase: undefined }],
  handshakeTimeoutMs: 1000,
  ...overrides,
});

t.test('an expired certificate is refused with its date', async (t) => {
  const future = () => new Date(Date.now() + 400 * 86400_000);
  t.throws(() => new TlsContexts(config(), future), { constructor: TlsConfigError, message: /certificate .*localhost\.pem expired on / });
});

t.test('missing files and mismatched pairs name the file', async (t) => {
  t.throws(() => new TlsContexts(config({ certificate: '/nonexistent.pem' })), { message: 'certificate /nonexistent.pem cannot be read: ENOENT' });
  t.throws(() => new TlsContexts(config({ privateKey: certs.strayKey })), { message: /does not match certificate/ });
  t.throws(() => new TlsContexts(config({ certificate: certs.key })), { message: /is not a PEM certificate/ });
});

t.test('SNI: exact names, wildcards, and the default', async (t) => {
  const contexts = new TlsContexts(config());
  t.equal(contexts.contextFor('mail.example.test'), contexts.contextFor('MAIL.EXAMPLE.TEST'));
  t.not(contexts.contextFor('mail.example.test'), contexts.context, 'wildcard match');
  t.equal(contexts.contextFor('a.b.example.test'), contexts.context, 'a wildcard covers one label only');
  t.equal(contexts.contextFor(undefined), contexts.context);
});

t.test('a failed reload keeps the working contexts', async (t) => {
  const contexts = new TlsContexts(config());
  const old = contexts.context;
  t.throws(() => contexts.reload(config({ privateKey: certs.strayKey })));
  t.equal(contexts.context, old);
  contexts.reload(config({ certificate: certs.otherCert, privateKey: certs.otherKey }));
  t.not(contexts.context, old);
});

t.test('contents handed in are used instead of the files (the engine never opens them)', async (t) => {
  const contents = (cert: string, key: string) => ({ certificate: readFileSync(cert, 'latin1'), privateKey: readFileSync(key, 'latin1') });
  const contexts = new TlsContexts(
    config({
      certificate: '/nonexistent/cert.pem',
      privateKey: '/nonexistent/key.pem',
      contents: contents(certs.cert, certs.key),
      sni: [{ serverName: 'other.test', certificate: '/nonexistent/o.pem', privateKey: '/nonexistent/o.key', passphrase: undefined, contents: contents(certs.otherCert, certs.otherKey) }],
    }),
  );
  t.not(contexts.contextFor('other.test'), contexts.context);
  t.throws(() => new TlsContexts(config({ contents: contents(certs.cert, certs.strayKey) })), { message: /private key .*localhost\.key does not match/ }, 'errors name the file');
});

t.test('session ticket keys must be 48 octets', async (t) => {
  t.throws(() => new TlsContexts(config({ sessionTicketKeys: Buffer.alloc(32).toString('base64') })), { constructor: TlsConfigError, message: 'session ticket keys must be 48 octets, got 32' });
  t.doesNotThrow(() => new TlsContexts(config({ sessionTicketKeys: Buffer.alloc(48).toString('base64') })));
});
