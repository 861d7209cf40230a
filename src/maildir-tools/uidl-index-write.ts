// Writes r2d2-uidls (src/maildrop/uidl-index.ts) the Maildir way: a new file in tmp/, fsynced,
// renamed over the old index, the maildir fsynced. A reader sees the old index or the new one,
// never a part; a crash leaves at worst a file in tmp/ that `r2d2 maildir fix` removes later.
// The maildir and its tmp/ are opened once (never through a symlink at their last component)
// and every path goes through those descriptors.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { EX_DATAERR } from '../deliver/sysexits';
import { withDir } from '../maildrop/open-dir';
import { formatUidlIndex, MAX_INDEX_BYTES, UIDL_INDEX_FILE } from '../maildrop/uidl-index';
import { errnoCode } from '../maildrop/util';
import { MaildirToolError } from './errors';

const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** Replaces the index with these entries; with none, removes it (a maildrop without one costs nothing more to serve). */
export async function writeUidlIndex(maildir: string, entries: ReadonlyMap<string, string>): Promise<void> {
  await withDir(maildir, async (root) => {
    if (entries.size === 0) {
      try {
        await unlink(root.at(UIDL_INDEX_FILE));
        await root.sync();
      } catch (e) {
        if (errnoCode(e) !== 'ENOENT') throw e;
      }
      return;
    }
    const bytes = formatUidlIndex(entries);
    if (bytes.length > MAX_INDEX_BYTES) throw new MaildirToolError(EX_DATAERR, `${maildir}: the index would hold ${bytes.length} bytes, more than r2d2 reads (${MAX_INDEX_BYTES}); nothing imported`);
    const owner = await stat(root.path);
    await withDir(join(root.path, 'tmp'), async (tmp) => {
      const name = tmp.at(`${UIDL_INDEX_FILE}.${process.pid}.${randomBytes(6).toString('hex')}`);
      const handle = await open(name, CREATE_FLAGS, 0o600);
      try {
        await handle.writeFile(bytes);
        // Run as root for a maildir of the mail user: the sessions (running as that user) must read it.
        if (process.getuid?.() === 0) await handle.chown(owner.uid, owner.gid);
        await handle.sync();
      } catch (e) {
        await handle.close();
        await unlink(name).catch(() => undefined);
        throw e;
      }
      await handle.close();
      try {
        await rename(name, root.at(UIDL_INDEX_FILE));
      } catch (e) {
        await unlink(name).catch(() => undefined);
        throw e;
      }
      await root.sync();
    });
  });
}
