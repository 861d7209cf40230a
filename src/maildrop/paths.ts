import { sep } from 'node:path';

/** Is `path` inside `root` (or root itself)? Both absolute and normalised: the one rule accounts, maildrop and deliver share. */
export function isInside(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}
