// Maildir++ quota definitions (www.courier-mta.org/imap/README.maildirquota.html): what an
// operator or a maildirsize's first line says (`10485760S,1000C`: bytes, messages; either may
// be missing), and whether a delivery fits. No I/O here.

/** A limit; undefined means no limit on that dimension. */
export interface QuotaDefinition {
  readonly bytes: number | undefined;
  readonly messages: number | undefined;
}

export interface QuotaUsage {
  readonly bytes: number;
  readonly messages: number;
}

export const UNLIMITED: QuotaDefinition = { bytes: undefined, messages: undefined };

/** Parses a Maildir++ definition line (`1000S,10C`, `1000S`, `10C`, ``); undefined if malformed. */
export function parseQuotaDefinition(line: string): QuotaDefinition | undefined {
  const text = line.trim();
  if (text === '') return UNLIMITED;
  let bytes: number | undefined;
  let messages: number | undefined;
  for (const part of text.split(',')) {
    const m = /^(\d{1,15})([SC])$/.exec(part.trim());
    if (m === null) return undefined;
    const n = Number(m[1]);
    if (m[2] === 'S') bytes = n === 0 ? undefined : n;
    else messages = n === 0 ? undefined : n;
  }
  return { bytes, messages };
}

/**
 * A quota as an operator writes it (c11n, --quota, a `quota` column): a Maildir++ definition
 * (`1073741824S,50000C`), a size with an optional unit (`500M`, `2G`, `1048576`), optionally
 * followed by `,<n>C`; `0`, `none` or `unlimited` for no limit. Undefined when malformed.
 */
export function parseQuotaSpec(spec: string | number | bigint): QuotaDefinition | undefined {
  if (typeof spec !== 'string') {
    const n = Number(spec);
    return Number.isSafeInteger(n) && n >= 0 ? { bytes: n === 0 ? undefined : n, messages: undefined } : undefined;
  }
  const text = spec.trim();
  if (/^(none|unlimited)$/i.test(text)) return UNLIMITED;
  const maildirPlusPlus = parseQuotaDefinition(text);
  if (maildirPlusPlus !== undefined) return maildirPlusPlus;
  const m = /^(\d{1,15})\s*([KMGT])?i?B?\s*(?:,\s*(\d{1,15})\s*C)?$/i.exec(text);
  if (m === null) return undefined;
  const unit = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 }[(m[2] ?? '').toUpperCase()] ?? 1;
  const bytes = Number(m[1]) * unit;
  if (!Number.isSafeInteger(bytes)) return undefined;
  const messages = m[3] === undefined ? undefined : Number(m[3]);
  return { bytes: bytes === 0 ? undefined : bytes, messages: messages === 0 ? undefined : messages };
}

export function formatQuotaDefinition(def: QuotaDefinition): string {
  const parts: string[] = [];
  if (def.bytes !== undefined) parts.push(`${def.bytes}S`);
  if (def.messages !== undefined) parts.push(`${def.messages}C`);
  return parts.join(',');
}

export const isUnlimited = (def: QuotaDefinition): boolean => def.bytes === undefined && def.messages === undefined;

/** Would adding `bytes` in `messages` pass the limit? (Courier: refuse what would exceed it.) */
export function exceeds(def: QuotaDefinition, usage: QuotaUsage, bytes: number, messages: number): boolean {
  if (def.bytes !== undefined && usage.bytes + bytes > def.bytes) return true;
  return def.messages !== undefined && usage.messages + messages > def.messages;
}
