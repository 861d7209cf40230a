// Reading the files a TLS listener names: certificates, keys and the session ticket key file.
// The supervisor reads them (tls-material.ts), possibly as root, and hands the contents on,
// so the engine running as the session uid never opens a key file.
import { readFileSync } from 'node:fs';
import { OperatorError } from '../config/operator-error';

/** A certificate or key that cannot be used: the message says which file and why. */
export class TlsConfigError extends OperatorError {}

/** Node's ticket keys: 16 octets of key name, 16 of HMAC secret, 16 of AES key. */
export const TICKET_KEY_BYTES = 48;

export function readPem(file: string, what: string): string {
  try {
    return readFileSync(file, 'latin1');
  } catch (error) {
    throw new TlsConfigError(`${what} ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/**
 * The session ticket keys in `file`: 48 octets as `openssl rand 48` writes them, or the same
 * in base64 (`openssl rand -base64 48`). Returned base64-encoded (the Config travels as JSON).
 */
export function readTicketKeys(file: string): string {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (error) {
    throw new TlsConfigError(`session ticket key file ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  if (raw.length === TICKET_KEY_BYTES) return raw.toString('base64');
  const text = raw.toString('latin1').trim();
  const decoded = /^[A-Za-z0-9+/]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : Buffer.alloc(0);
  if (decoded.length === TICKET_KEY_BYTES) return decoded.toString('base64');
  throw new TlsConfigError(`session ticket key file ${file} must hold ${TICKET_KEY_BYTES} random octets (openssl rand ${TICKET_KEY_BYTES}), or them in base64; it holds ${raw.length} octets`);
}
