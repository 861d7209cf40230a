// When link(2) fails with one of these codes, the Maildir writers fall back to rename(2) after
// checking that the new name is free (a rename would replace a file; a link never does).
//
// The two sets differ on purpose. `r2d2 deliver` links tmp/X to new/Y, across two directories,
// and some filesystems (AFS) refuse a hard link across directories with EXDEV where a rename
// works. `r2d2 maildir fix` renames within one directory, where EXDEV means a real
// cross-device error: that file is reported and left as it is.

/** The filesystem offers no link(2) at all. */
export const NO_LINK: ReadonlySet<string> = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/** As NO_LINK, for a link from one directory into another (deliver's tmp/ -> new/). */
export const NO_LINK_ACROSS_DIRS: ReadonlySet<string> = new Set([...NO_LINK, 'EXDEV']);
