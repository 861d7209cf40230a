// The Maildir delivery itself (cr.yp.to/proto/maildir.html): write tmp/, fsync, link into new/
// under a name that carries the rfc822 size, fsync new/, unlink tmp/. A crash at any point
// leaves either nothing in new/ or the whole message there; a failure removes what it wrote.
// Every path goes through the directories opened once by openMaildir (maildir-open.ts), every
// call through its disk (disk.ts: blocking calls or the pool, by the I/O policy; fsync pooled).
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { NO_LINK_ACROSS_DIRS } from '../maildrop/link-fallback';
import { uniqueHex } from '../maildrop/lazy-crypto';
import { errnoCode } from '../maildrop/util';
import type { DeliveryDisk } from './disk';
import type { OpenMaildir } from './maildir-open';
import { Rfc822SizeCounter } from '../maildrop/rfc822-size';
import { LfToCrlf } from './crlf-store';
import { DeliveryError, EX_DATAERR, EX_TEMPFAIL } from './sysexits';
import { hostPart, uniqueName } from './unique-name';

const FILE_MODE = 0o600;
/** O_NOFOLLOW: a symlink planted at the tmp name is never written through. */
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
/** Names tried before giving up on new/ (each collision means another writer used the name). */
const LINK_ATTEMPTS = 8;

/** A transient error (disk full, read-only, permissions, I/O) as the MTA sees it. */
export function tempfail(what: string, e: unknown): DeliveryError {
  const code = errnoCode(e);
  const reason = code ?? (e instanceof Error ? e.message : String(e));
  return new DeliveryError(EX_TEMPFAIL, `${what}: ${reason}${code === undefined ? '' : describe(code)}`, { cause: e });
}

function describe(code: string): string {
  const text: Record<string, string> = {
    ENOSPC: 'no space left on device',
    EDQUOT: 'disk quota exceeded',
    EROFS: 'read-only file system',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EIO: 'input/output error',
    ENOENT: 'no such file or directory',
    ENOTDIR: 'not a directory',
    ELOOP: 'a symbolic link where none may be',
  };
  const t = text[code];
  return t === undefined ? '' : ` (${t})`;
}

export interface WrittenMessage {
  /** The file in tmp/, through the opened tmp/ (`/proc/self/fd/N/<name>`). */
  readonly tmpPath: string;
  /** Its path as an operator reads it, for messages. */
  readonly shownPath: string;
  /** rfc822 size: bare LF counted as CRLF, plus a CRLF when the message does not end with LF. */
  readonly size: number;
  /** Octets on disk (what Maildir++ quota counts). */
  readonly bytes: number;
}

const FROM_ = Buffer.from('From ');

export interface WriteOptions {
  readonly keepFromLine?: boolean | undefined;
  readonly host?: string | undefined;
  /** Store CRLF line ends (`store_crlf`): the size in the name is then the octets on disk. */
  readonly crlf?: boolean | undefined;
}

/**
 * Writes the message into tmp/ and fsyncs it. A leading mbox `From ` line (an MTA's envelope
 * line, not part of the message) is dropped unless `keepFromLine`. Empty input is not mail:
 * EX_DATAERR. On any failure the tmp file is removed before the error is thrown.
 */
export async function writeTmp(maildir: OpenMaildir, input: Buffer | AsyncIterable<Uint8Array>, options: WriteOptions = {}): Promise<WrittenMessage> {
  const name = tmpName(options.host ?? hostname());
  const tmpPath = maildir.tmp.at(name);
  const shownPath = join(maildir.path, 'tmp', name);
  const disk = maildir.disk;
  let fd: number;
  try {
    fd = await disk.open(tmpPath, CREATE_FLAGS, FILE_MODE);
  } catch (e) {
    throw tempfail(`cannot create ${shownPath}`, e);
  }
  const counter = new Rfc822SizeCounter();
  const lines = options.crlf === true ? new LfToCrlf() : undefined;
  let bytes = 0;
  let head: Buffer | undefined = options.keepFromLine === true ? undefined : Buffer.alloc(0); // undefined: decided
  const put = async (input: Buffer): Promise<void> => {
    const chunk = lines === undefined ? input : lines.push(input);
    if (chunk.length === 0) return;
    counter.push(chunk);
    bytes += chunk.length;
    await writeAll(disk, fd, chunk);
  };
  try {
    try {
      const chunks = Buffer.isBuffer(input) ? [input] : input;
      for await (const piece of chunks) {
        let chunk = Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
        if (head !== undefined) {
          head = Buffer.concat([head, chunk]);
          const decided = decideFromLine(head);
          if (decided === undefined) continue;
          chunk = decided;
          head = undefined;
        }
        await put(chunk);
      }
      if (head !== undefined) await put(decideFromLine(head, true) ?? Buffer.alloc(0));
      if (lines !== undefined) await put(lines.end());
    } catch (e) {
      if (e instanceof DeliveryError) throw e;
      throw tempfail(errnoCode(e) === undefined ? 'cannot read the message' : `cannot write ${shownPath}`, e);
    }
    if (bytes === 0) throw new DeliveryError(EX_DATAERR, 'empty message: nothing to deliver');
    try {
      await disk.fsync(fd);
    } catch (e) {
      throw tempfail(`cannot fsync ${shownPath}`, e);
    }
  } catch (e) {
    await disk.close(fd).catch(() => undefined);
    await disk.unlink(tmpPath).catch(() => undefined);
    throw e;
  }
  try {
    await disk.close(fd);
  } catch (e) {
    await disk.unlink(tmpPath).catch(() => undefined);
    throw tempfail(`cannot close ${shownPath}`, e);
  }
  return { tmpPath, shownPath, size: counter.size, bytes };
}

/**
 * With the first bytes seen so far: undefined while it cannot yet tell; else what to write
 * (the bytes, less a first line that starts with `From `). `end`: no more input will come.
 */
function decideFromLine(head: Buffer, end = false): Buffer | undefined {
  const prefix = Math.min(head.length, FROM_.length);
  if (!head.subarray(0, prefix).equals(FROM_.subarray(0, prefix))) return head;
  if (head.length < FROM_.length) return end ? head : undefined;
  const lf = head.indexOf(0x0a);
  if (lf === -1) return end ? Buffer.alloc(0) : undefined;
  return head.subarray(lf + 1);
}

/** One chunk as it came from the input (at most a socket read's worth from LMTP). */
async function writeAll(disk: DeliveryDisk, fd: number, chunk: Buffer): Promise<void> {
  for (let offset = 0; offset < chunk.length; ) offset += await disk.write(fd, chunk, offset, chunk.length - offset);
}

let tmpCounter = 0;

/** A name for a file in tmp/: unique on this host (time, pid, counter, 48 random bits). */
export function tmpName(host: string): string {
  tmpCounter = (tmpCounter + 1) % 1_000_000;
  return `${Math.floor(Date.now() / 1000)}.P${process.pid}Q${tmpCounter}R${uniqueHex()}.${hostPart(host, 30)}`;
}

/**
 * Moves a written message from tmp/ into new/ under a unique r2d2 name: link(2), which never
 * replaces an existing file (a collision tries the next name), then fsync of new/, then unlink of
 * the tmp file. Where link is not offered, rename(2) after checking the name is free. Returns
 * the name in new/. On failure nothing is left in new/ and the tmp file is removed.
 */
export async function moveToNew(maildir: OpenMaildir, written: WrittenMessage, host = hostname()): Promise<string> {
  const newDir = join(maildir.path, 'new');
  const disk = maildir.disk;
  let name: string | undefined;
  let linked = false;
  try {
    for (let attempt = 0; attempt < LINK_ATTEMPTS && name === undefined; attempt++) {
      const candidate = uniqueName(written.size, process.hrtime.bigint(), host);
      const target = maildir.new.at(candidate);
      try {
        await disk.link(written.tmpPath, target);
        linked = true;
        name = candidate;
      } catch (e) {
        const code = errnoCode(e) ?? '';
        if (code === 'EEXIST') continue;
        if (!NO_LINK_ACROSS_DIRS.has(code)) throw tempfail(`cannot link ${written.shownPath} into new/`, e);
        const free = await disk.lstat(target).then(
          (st) => st === undefined,
          () => false,
        );
        if (!free) continue;
        await disk.rename(written.tmpPath, target);
        name = candidate;
      }
    }
    if (name === undefined) throw new DeliveryError(EX_TEMPFAIL, `no free name in ${newDir} after ${LINK_ATTEMPTS} tries`);
  } catch (e) {
    await disk.unlink(written.tmpPath).catch(() => undefined);
    if (e instanceof DeliveryError) throw e;
    throw tempfail(`cannot move the message into ${newDir}`, e);
  }
  try {
    await maildir.new.sync();
  } catch (e) {
    // Not known to be on disk: take it back so that the MTA's retry makes no duplicate.
    await disk.unlink(maildir.new.at(name)).catch(() => undefined);
    await disk.unlink(written.tmpPath).catch(() => undefined);
    throw tempfail(`cannot fsync ${newDir}`, e);
  }
  if (linked) await disk.unlink(written.tmpPath).catch(() => undefined); // delivered; a leftover is only tmp/ litter
  return name;
}

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
