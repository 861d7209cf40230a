// Dovecot's pop3_uidl_format, expanded the way Dovecot 2.3's var_expand() and pop3_get_uid()
// expand it (src/lib/var-expand.c, src/pop3/pop3-commands.c), so that the result is the UIDL its
// POP3 server sent. Default `%08Xu%08Xv`: the IMAP UID and UIDVALIDITY, each in lower-case hex
// (Dovecot's X modifier prints "%llx") zero-padded to 8 digits.
//
// Syntax of one variable: %[-][0][width][.[0][-][width]][modifiers]key
//   keys: u UID, v UIDVALIDITY, f base name, g GUID (the uidlist's G field, else the base name),
//   m header MD5 (mbox only: Dovecot fails the UIDL command on a maildir, so it is refused
//   here), %% a percent sign.
//   modifiers: L lower case, U upper case, X decimal to hex, R reverse, M md5 hex, T trim
//   trailing space, E backslash-escape; H, N and D (hashes, LDAP DN) are refused.
// A leading number with 0 pads with zeros (never truncates); without 0 it truncates; `a.b`
// skips a characters first (negative a: takes the last -a characters).
//
// Dovecot 2.3 checks the setting when it reads its config (mail-storage-settings.c): a long name
// (`%{uid}`) or another letter is an "Unknown pop3_uidl_format variable", a format with none of
// u v m f g is refused; so are they here: Dovecot never served a UIDL from such a format.
import { createHash } from 'node:crypto';

export interface FormatValues {
  readonly uid: number;
  readonly uidValidity: number;
  /** The message's base name as the old server knew it. */
  readonly filename: string;
  /** The uidlist's G field, else the base name. */
  readonly guid: string;
}

export class UidlFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UidlFormatError';
  }
}

export const DOVECOT_DEFAULT_FORMAT = '%08Xu%08Xv';

type Key = 'u' | 'v' | 'f' | 'g' | 'm';
const MODIFIERS = 'LUEXRHNMDT';
const MAX_MODIFIERS = 10;

interface Variable {
  readonly key: Key | '%';
  readonly modifiers: string;
  readonly offset: number;
  readonly width: number;
  readonly zeroPadding: boolean;
}

type Part = string | Variable;

/** Compiles a format; throws UidlFormatError for what Dovecot would not have served on a maildir. */
export function compileUidlFormat(format: string): (values: FormatValues) => string {
  const parts = parseFormat(format);
  const keys = new Set(parts.flatMap((p) => (typeof p !== 'string' && p.key !== '%' ? [p.key] : [])));
  if (keys.size === 0) throw new UidlFormatError(`${JSON.stringify(format)} has none of %u %v %m %f %g: Dovecot refuses it ("pop3_uidl_format setting doesn't contain any % variables")`);
  if (keys.has('m')) throw new UidlFormatError(`%m (header MD5) exists for mbox only: Dovecot's UIDL fails on a maildir with ${JSON.stringify(format)}`);
  return (values) => {
    let out = '';
    for (const part of parts) out += typeof part === 'string' ? part : expand(part, values);
    return out;
  };
}

function expand(v: Variable, values: FormatValues): string {
  if (v.key === '%') return '%';
  let value = raw(v.key, values);
  for (const m of v.modifiers) value = modify(m, value);
  if (v.offset < 0) value = value.length > -v.offset ? value.slice(value.length + v.offset) : value;
  else value = value.slice(v.offset);
  if (v.width === 0) return value;
  if (!v.zeroPadding) return value.slice(0, v.width < 0 ? Math.max(0, value.length + v.width) : v.width);
  return value.padStart(v.width, '0');
}

/** The table pop3_get_uid() builds. */
function raw(key: Key, values: FormatValues): string {
  if (key === 'v') return String(values.uidValidity);
  if (key === 'u') return String(values.uid);
  if (key === 'f') return values.filename;
  if (key === 'g') return values.guid;
  return ''; // m: refused at compile time
}

function modify(modifier: string, value: string): string {
  switch (modifier) {
    case 'L': // t_str_lcase(): ASCII only
      return value.replace(/[A-Z]+/g, (c) => c.toLowerCase());
    case 'U':
      return value.replace(/[a-z]+/g, (c) => c.toUpperCase());
    case 'X': {
      // str_to_ullong() or 0, printed "%llx".
      const n = /^[0-9]+$/.test(value) ? BigInt(value) : 0n;
      return (n > 0xffffffffffffffffn ? 0n : n).toString(16);
    }
    case 'R':
      return [...value].reverse().join('');
    case 'M':
      return createHash('md5').update(value, 'latin1').digest('hex');
    case 'T':
      return value.replace(/\s+$/, '');
    case 'E':
      return value.replace(/["'\\]/g, (c) => `\\${c}`);
    default:
      throw new UidlFormatError(`modifier %${modifier} is not supported`);
  }
}

function parseFormat(format: string): Part[] {
  const parts: Part[] = [];
  let literal = '';
  let i = 0;
  const digits = (): number => {
    let n = 0;
    while (i < format.length && format[i]! >= '0' && format[i]! <= '9') n = n * 10 + Number(format[i++]);
    return n;
  };
  while (i < format.length) {
    const c = format[i++]!;
    if (c !== '%') {
      literal += c;
      continue;
    }
    let sign = 1;
    let zeroPadding = false;
    let offset = 0;
    if (format[i] === '-') (sign = -1), i++;
    if (format[i] === '0') (zeroPadding = true), i++;
    let width = digits();
    if (format[i] === '.') {
      i++;
      offset = sign * width;
      sign = 1;
      zeroPadding = false;
      if (format[i] === '0') (zeroPadding = true), i++;
      if (format[i] === '-') (sign = -1), i++;
      width = sign * digits();
    }
    let modifiers = '';
    while (modifiers.length < MAX_MODIFIERS && i < format.length && MODIFIERS.includes(format[i]!)) modifiers += format[i++];
    for (const m of modifiers) if ('HND'.includes(m)) throw new UidlFormatError(`modifier %${m} is not supported`);
    if (i >= format.length) break; // Dovecot drops a trailing lone `%`
    const key = format[i++]!;
    // Dovecot 2.3 rejects the setting itself: "Unknown pop3_uidl_format variable: %{" for long names.
    if (key !== '%' && !'uvfgm'.includes(key)) throw new UidlFormatError(`%${key} is not a pop3_uidl_format variable: Dovecot 2.3 refuses the setting ("Unknown pop3_uidl_format variable: %${key}")`);
    if (literal !== '') parts.push(literal), (literal = '');
    parts.push({ key: key as Key | '%', modifiers, offset, width, zeroPadding });
  }
  if (literal !== '') parts.push(literal);
  return parts;
}
