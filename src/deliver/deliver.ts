// One delivery, in-process: what `r2d2 deliver` runs once per invocation. Throws a
// DeliveryError whose exitCode is the sysexits status to answer the MTA. The maildir is opened
// once (maildir-open.ts) and every write goes through those open directories.
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { QuotaDefinition } from '../maildrop/quota';
import { deliveryDisk } from './disk';
import { openMaildir } from './maildir-open';
import { moveToNew, writeTmp } from './maildir-write';
import { moveWithinQuota } from './quota-check';

export interface DeliveryOptions {
  /** Absolute path of the maildir (the folder holding tmp/ new/ cur/). */
  readonly maildir: string;
  /** When set, the maildir must lie inside it, also after symlinks are followed. */
  readonly maildirRoot?: string | undefined;
  /** Create a missing maildir (default true). */
  readonly create?: boolean | undefined;
  /**
   * The quota to enforce (Maildir++); undefined: whatever the maildir's maildirsize says (none
   * when it has none). An unlimited definition still keeps an existing maildirsize up to date.
   */
  readonly quota?: QuotaDefinition | undefined;
  /** Over quota: `tempfail` (75, default) or `bounce` (69). */
  readonly overQuota?: 'tempfail' | 'bounce' | undefined;
  /** Keep a leading mbox `From ` line (dropped by default). */
  readonly keepFromLine?: boolean | undefined;
  /** Store CRLF line ends (`deliver { store_crlf = yes }`); default: as given (LF from an MTA's pipe). */
  readonly storeCrlf?: boolean | undefined;
  /** The host part of the name (default: os.hostname()). */
  readonly host?: string | undefined;
  /** `blocking_file_io`: file calls other than fsync block (disk.ts); default: all through the pool. */
  readonly blockingFileIo?: boolean | undefined;
}

export interface Delivered {
  /** The file's path in new/. */
  readonly path: string;
  /** Its name (`<sec>.M<usec>P<pid>Q<n>Z<HEX>.<host>`). */
  readonly file: string;
  /** rfc822 size, as in the name and as POP3 LIST reports it. */
  readonly size: number;
  /** Octets on disk. */
  readonly bytes: number;
}

export async function deliverMessage(input: Buffer | AsyncIterable<Uint8Array>, options: DeliveryOptions): Promise<Delivered> {
  const host = options.host ?? hostname();
  const disk = deliveryDisk(options.blockingFileIo ?? false);
  const maildir = await openMaildir(options.maildir, { create: options.create ?? true, root: options.maildirRoot, disk });
  try {
    const written = await writeTmp(maildir, input, { keepFromLine: options.keepFromLine, host, crlf: options.storeCrlf });
    const policy = { quota: options.quota, overQuota: options.overQuota };
    const file = await moveWithinQuota(maildir, written, policy, () => moveToNew(maildir, written, host));
    return { path: join(maildir.path, 'new', file), file, size: written.size, bytes: written.bytes };
  } finally {
    await maildir.close();
  }
}
