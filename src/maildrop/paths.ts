import { realpath } from 'node:fs';
import { resolve, sep } from 'node:path';

/** Is `path` inside `root` (or root itself)? Both absolute and normalised: the one rule accounts, maildrop and deliver share. */
export function isInside(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** The root's real path rarely changes: asked once a minute at most (per thread). */
const ROOT_TTL_MS = 60_000;
const roots = new Map<string, { path: string; at: number }>();

/** maildir_root with its symlinks resolved (realpath(3) in one call), cached; the path as given if it cannot be resolved. */
export async function realRoot(maildirRoot: string, now: number = Date.now()): Promise<string> {
  const known = roots.get(maildirRoot);
  if (known !== undefined && now - known.at < ROOT_TTL_MS) return known.path;
  const path = await new Promise<string>((done) => realpath.native(maildirRoot, (error, real) => done(error ? resolve(maildirRoot) : real)));
  roots.set(maildirRoot, { path, at: now });
  return path;
}
