import { X509Certificate, constants, createPrivateKey, randomBytes } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { CertificateConfig, TlsConfig } from '../config/types';
import { readPem, TICKET_KEY_BYTES, TlsConfigError } from './tls-files';

export { TlsConfigError } from './tls-files';

/**
 * TLS 1.2 suites when `ciphers` is not set: forward secrecy (ECDHE) and AEAD only, Mozilla's
 * "intermediate" list without DHE. TLS 1.3 suites are Node's (all AEAD with ephemeral keys).
 */
export const DEFAULT_TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/**
 * Client-initiated renegotiation costs the server a full handshake each time, and the bare
 * TLSSocket of start-tls.ts has none of tls.Server's renegotiation limit: OpenSSL refuses it.
 */
const SECURE_OPTIONS = constants.SSL_OP_NO_RENEGOTIATION;

/** Ticket keys for a process whose Config carries none (in-process servers, tests): one set for all its listeners. */
let processTicketKeys: Buffer | undefined;

/**
 * The secure contexts of one listener: its default certificate and those chosen by SNI.
 * `reload` builds a complete new set first and swaps only when every file is good, so a
 * broken certificate on SIGHUP leaves the old one serving.
 */
export class TlsContexts {
  private current: { readonly fallback: SecureContext; readonly byName: ReadonlyMap<string, SecureContext> };

  constructor(
    private config: TlsConfig,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.current = build(config, now());
  }

  get context(): SecureContext {
    return this.current.fallback;
  }

  get handshakeTimeoutMs(): number {
    return this.config.handshakeTimeoutMs;
  }

  /** Picks the context for a client's SNI name: exact, then `*.` wildcard, then the default. */
  contextFor(serverName: string | undefined): SecureContext {
    if (serverName === undefined || serverName === '') return this.current.fallback;
    const name = serverName.toLowerCase();
    const exact = this.current.byName.get(name);
    if (exact !== undefined) return exact;
    const dot = name.indexOf('.');
    const wildcard = dot === -1 ? undefined : this.current.byName.get('*' + name.slice(dot));
    return wildcard ?? this.current.fallback;
  }

  /** Node's SNICallback shape. */
  readonly sniCallback = (serverName: string, done: (error: Error | null, context?: SecureContext) => void): void => {
    done(null, this.contextFor(serverName));
  };

  /** Rebuilds from the new contents (or files); throws TlsConfigError (and keeps the old contexts) when any is bad. */
  reload(config: TlsConfig = this.config): void {
    this.current = build(config, this.now());
    this.config = config;
  }
}

function build(config: TlsConfig, now: Date): { fallback: SecureContext; byName: Map<string, SecureContext> } {
  // Every context gets the same keys: a ticket is decrypted with the keys of the context the
  // handshake started on, and any thread (or host) may be the one that sees the client again.
  const ticketKeys = ticketKeysOf(config);
  const fallback = contextOf(config, config, ticketKeys, now);
  const byName = new Map<string, SecureContext>();
  for (const sni of config.sni) byName.set(sni.serverName.toLowerCase(), contextOf(sni, config, ticketKeys, now));
  return { fallback, byName };
}

function ticketKeysOf(config: TlsConfig): Buffer {
  if (config.sessionTicketKeys === undefined) return (processTicketKeys ??= randomBytes(TICKET_KEY_BYTES));
  const keys = Buffer.from(config.sessionTicketKeys, 'base64');
  if (keys.length !== TICKET_KEY_BYTES) throw new TlsConfigError(`session ticket keys must be ${TICKET_KEY_BYTES} octets, got ${keys.length}`);
  return keys;
}

function contextOf(files: CertificateConfig, options: TlsConfig, ticketKeys: Buffer, now: Date): SecureContext {
  const cert = files.contents?.certificate ?? readPem(files.certificate, 'certificate');
  const key = files.contents?.privateKey ?? readPem(files.privateKey, 'private key');
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch {
    throw new TlsConfigError(`certificate ${files.certificate} is not a PEM certificate`);
  }
  if (Date.parse(leaf.validTo) < now.getTime()) {
    throw new TlsConfigError(`certificate ${files.certificate} expired on ${leaf.validTo}`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey({ key, passphrase: files.passphrase });
  } catch {
    throw new TlsConfigError(`private key ${files.privateKey} cannot be read (wrong passphrase, or not a PEM key)`);
  }
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new TlsConfigError(`private key ${files.privateKey} does not match certificate ${files.certificate}`);
  }
  try {
    return createSecureContext({
      cert,
      key,
      passphrase: files.passphrase,
      minVersion: options.minVersion,
      ciphers: options.ciphers ?? DEFAULT_TLS12_CIPHERS,
      honorCipherOrder: true,
      secureOptions: SECURE_OPTIONS,
      ticketKeys,
    });
  } catch (error) {
    throw new TlsConfigError(`TLS settings for ${files.certificate} are not usable: ${(error as Error).message}`);
  }
}
