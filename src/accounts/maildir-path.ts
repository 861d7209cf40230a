import { realpath } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { isInside } from '../maildrop/paths';
import type { LoginResult } from './accounts';

/**
 * Turns the rows a store returned into a login result: exactly one row whose first column
 * (or a column named `maildir`) is an absolute path inside maildir_root when that is set.
 * Anything else is refused, never served.
 */
export function maildirFromRows(rows: readonly unknown[], maildirRoot: string | undefined): LoginResult {
  if (rows.length === 0) return { kind: 'denied' };
  if (rows.length > 1) return { kind: 'refused', reason: `query returned ${rows.length} rows` };
  const value = firstColumn(rows[0]);
  if (typeof value !== 'string' || value.length === 0) return { kind: 'refused', reason: 'query returned no maildir path' };
  if (!isAbsolute(value)) return { kind: 'refused', reason: 'maildir path is not absolute' };
  const maildir = resolve(value);
  if (maildirRoot !== undefined) {
    const root = resolve(maildirRoot);
    if (!isInside(maildir, root)) {
      return { kind: 'refused', reason: 'maildir path is outside maildir_root' };
    }
  }
  return { kind: 'ok', maildir };
}

function firstColumn(row: unknown): unknown {
  if (Array.isArray(row)) return row[0] instanceof Buffer ? row[0].toString('utf8') : row[0];
  if (row === null || typeof row !== 'object') return undefined;
  const record = row as Record<string, unknown>;
  const value = 'maildir' in record ? record['maildir'] : Object.values(record)[0];
  return value instanceof Buffer ? value.toString('utf8') : value;
}

/**
 * The same rule after symlinks are followed: a maildir that is a link out of maildir_root is
 * refused. A maildir that does not exist yet is left to the scan to report.
 */
export async function isInsideRootOnDisk(maildir: string, maildirRoot: string): Promise<boolean> {
  let real: string;
  try {
    real = await realPath(maildir);
  } catch {
    return true;
  }
  const root = await realRoot(maildirRoot);
  return isInside(real, root);
}

/** realpath(3) in one call (fs.promises.realpath walks every component with lstat). */
function realPath(path: string): Promise<string> {
  return new Promise((done, fail) => realpath.native(path, (error, resolved) => (error ? fail(error) : done(resolved))));
}

/** The root's real path rarely changes: asked once a minute at most. */
const ROOT_TTL_MS = 60_000;
const roots = new Map<string, { path: string; at: number }>();

async function realRoot(maildirRoot: string): Promise<string> {
  const known = roots.get(maildirRoot);
  if (known !== undefined && Date.now() - known.at < ROOT_TTL_MS) return known.path;
  const path = await realPath(maildirRoot).catch(() => resolve(maildirRoot));
  roots.set(maildirRoot, { path, at: Date.now() });
  return path;
}
