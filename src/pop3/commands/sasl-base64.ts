// SASL responses are base64 (RFC 5034 §4); anything else ends the exchange as a bad command.
import { err } from '../replies';
import { BACK } from './authorization';
import type { Outcome } from './context';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A response's base64, strictly: undefined when it is not base64. */
export function decodeBase64(encoded: string): Buffer | undefined {
  return BASE64.test(encoded) ? Buffer.from(encoded, 'base64') : undefined;
}

export const INVALID_BASE64: Outcome = { reply: err('invalid base64 in the SASL response'), next: BACK, bad: true };
