import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContext } from 'node:tls';
import { OperatorError } from '../config/operator-error';
import type { CertificateConfig, TlsConfig } from '../config/types';

/** A certificate or key that cannot be used: the message says which file and why. */
export class TlsConfigError extends OperatorError {}

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

  /** Re-reads the files; throws TlsConfigError (and keeps the old contexts) when any is bad. */
  reload(config: TlsConfig = this.config): void {
    this.current = build(config, this.now());
    this.config = config;
  }
}

function build(config: TlsConfig, now: Date): { fallback: SecureContext; byName: Map<string, SecureContext> } {
  const fallback = contextOf(config, config, now);
  const byName = new Map<string, SecureContext>();
  for (const sni of config.sni) byName.set(sni.serverName.toLowerCase(), contextOf(sni, config, now));
  return { fallback, byName };
}

function contextOf(files: CertificateConfig, options: TlsConfig, now: Date): SecureContext {
  const cert = readPem(files.certificate, 'certificate');
  const key = readPem(files.privateKey, 'private key');
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
      ciphers: options.ciphers,
      honorCipherOrder: true,
    });
  } catch (error) {
    throw new TlsConfigError(`TLS settings for ${files.certificate} are not usable: ${(error as Error).message}`);
  }
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new TlsConfigError(`${what} ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}
