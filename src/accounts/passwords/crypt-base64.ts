/** crypt(3)'s base64: "./0-9A-Za-z", little-endian groups of 6 bits (not RFC 4648). */
const ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** The characters crypt(3) allows in a salt. */
export const SALT_CHARACTERS = /^[./0-9A-Za-z]*$/;

/** Encodes bytes taken three at a time in the order a scheme's spec lists, `n` characters each. */
export function cryptBase64(bytes: Buffer, groups: ReadonlyArray<readonly [number, number, number, number]>): string {
  let out = '';
  for (const [b2, b1, b0, n] of groups) {
    let w = (byteAt(bytes, b2) << 16) | (byteAt(bytes, b1) << 8) | byteAt(bytes, b0);
    for (let i = 0; i < n; i++) {
      out += ALPHABET[w & 0x3f];
      w >>= 6;
    }
  }
  return out;
}

/** -1 names a zero byte (the spec's padding in the last group). */
function byteAt(bytes: Buffer, index: number): number {
  return index < 0 ? 0 : (bytes[index] ?? 0);
}

/** A random salt of crypt(3) characters. */
export function randomSalt(length: number, random: Buffer): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[(random[i] ?? 0) & 0x3f];
  return out;
}
