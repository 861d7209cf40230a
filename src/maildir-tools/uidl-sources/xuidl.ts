// The `X-UIDL:` header a message kept from an earlier POP3 server (qpopper and others wrote it;
// Dovecot with pop3_reuse_xuidl = yes serves it as the message's UIDL): the first X-UIDL field
// of the header.
import { close, read } from 'node:fs';
import { openRegular } from '../../maildrop/safe-open';

/** How much of a message is searched for its header: more than any real header holds. */
const MAX_HEADER_BYTES = 256 * 1024;
const CHUNK = 16 * 1024;

/**
 * The value of the first X-UIDL field in the header section of `bytes`, as Dovecot 2.3 serves it
 * (pop3_reuse_xuidl): the white space after the colon skipped, a folded value NOT unfolded (its
 * line break is served too: a broken UIDL, which the import reports as invalid). Trailing white
 * space is dropped: clients read the UIDL up to it. Pure.
 */
export function xuidlOfHeader(bytes: Buffer): string | undefined {
  const text = bytes.toString('latin1');
  const end = /\r?\n\r?\n/.exec(text);
  const header = end === null ? text : text.slice(0, end.index);
  const lines = header.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const m = /^X-UIDL[ \t]*:(.*)$/i.exec(lines[i] ?? '');
    if (m === null) continue;
    let value = (m[1] ?? '').replace(/^[ \t]+/, '');
    for (let j = i + 1; j < lines.length && /^[ \t]/.test(lines[j] ?? ''); j++) value += `\n${lines[j]}`;
    return value.replace(/[ \t\r]+$/, '');
  }
  return undefined;
}

/** Reads the header of a message file (opened safely: no symlink, FIFO or device) and finds its X-UIDL. */
export async function xuidlOfFile(path: string | Buffer): Promise<string | undefined> {
  const { fd } = await openRegular(path);
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buffer = Buffer.allocUnsafe(CHUNK);
      const n = await new Promise<number>((resolve, reject) => read(fd, buffer, 0, CHUNK, null, (e, got) => (e ? reject(e) : resolve(got))));
      if (n === 0) break;
      chunks.push(buffer.subarray(0, n));
      total += n;
      const sofar = Buffer.concat(chunks);
      if (/\r?\n\r?\n/.test(sofar.toString('latin1')) || total >= MAX_HEADER_BYTES) break;
    }
    return xuidlOfHeader(Buffer.concat(chunks));
  } finally {
    close(fd, () => undefined);
  }
}
