// Another server's bookkeeping files (dovecot-uidlist, courierpop3dsizelist, courierimapuiddb)
// are untrusted input like the messages: opened without following a symlink, as regular files
// only, and read up to a bound.
import { closeSync, readFile } from 'node:fs';
import { openRegular } from '../../maildrop/safe-open';
import { errnoCode } from '../../maildrop/util';

/** A uidlist line is under 200 octets: this is room for more than a million messages. */
export const MAX_CONTROL_FILE_BYTES = 256 * 1024 * 1024;

export class ControlFileError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'ControlFileError';
  }
}

/** The file's text (UTF-8, as file names are), or undefined when it does not exist. */
export async function readControlFile(path: string): Promise<string | undefined> {
  let opened;
  try {
    opened = await openRegular(path);
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new ControlFileError(path, 'a symbolic link (not followed)');
    if (code === 'ENOTREG' || code === 'EISDIR') throw new ControlFileError(path, 'not a regular file');
    throw e;
  }
  try {
    if (opened.size > MAX_CONTROL_FILE_BYTES) throw new ControlFileError(path, `larger than ${MAX_CONTROL_FILE_BYTES} bytes`);
    const bytes = await new Promise<Buffer>((resolve, reject) => readFile(opened.fd, (e, b) => (e ? reject(e) : resolve(b))));
    if (bytes.length > MAX_CONTROL_FILE_BYTES) throw new ControlFileError(path, `larger than ${MAX_CONTROL_FILE_BYTES} bytes`);
    return bytes.toString('utf8');
  } finally {
    closeSync(opened.fd);
  }
}
