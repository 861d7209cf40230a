// The supervisor's side of TLS key material: it reads every certificate, private key and the
// session ticket key file (possibly as root) and puts their contents into the Config it sends
// the engine over IPC. The engine, running as the session uid, then never opens a key file, and
// every worker thread gets the same ticket keys, so a client resumes its session on any thread.
import { randomBytes } from 'node:crypto';
import type { CertificateConfig, Config, ListenerConfig, TlsConfig } from '../config/types';
import { readPem, readTicketKeys, TICKET_KEY_BYTES } from './tls-files';

export class TlsMaterial {
  /** Without `session_ticket_key_file`: made once, kept across SIGHUP and engine restarts. */
  private readonly randomTicketKeys = randomBytes(TICKET_KEY_BYTES).toString('base64');

  /**
   * A copy of `config` whose TLS settings carry the files' contents. Throws TlsConfigError
   * naming the first file that cannot be read; validity is checked where contexts are built.
   */
  attach(config: Config): Config {
    const ticketKeys = config.sessionTicketKeyFile === undefined ? this.randomTicketKeys : readTicketKeys(config.sessionTicketKeyFile);
    return { ...config, listeners: config.listeners.map((listener) => withContents(listener, ticketKeys)) };
  }
}

function withContents(listener: ListenerConfig, sessionTicketKeys: string): ListenerConfig {
  const tls = listener.tlsConfig;
  if (tls === undefined) return listener;
  const tlsConfig: TlsConfig = { ...read(tls), sni: tls.sni.map(read), sessionTicketKeys };
  return { ...listener, tlsConfig };
}

function read<T extends CertificateConfig>(files: T): T {
  return { ...files, contents: { certificate: readPem(files.certificate, 'certificate'), privateKey: readPem(files.privateKey, 'private key') } };
}
