import { readFileSync } from 'node:fs';

export interface Credentials {
  readonly uid: number;
  readonly gid: number;
}

/** Resolves a user/group name (or number) through /etc/passwd and /etc/group. */
export function resolveCredentials(user: string, group: string | undefined): Credentials {
  const passwd = lookup('/etc/passwd', user);
  const uid = /^\d+$/.test(user) ? Number(user) : passwd?.[2];
  if (uid === undefined) throw new Error(`uid "${user}" is not a known user`);
  let gid: number | undefined;
  if (group === undefined) gid = passwd?.[3];
  else gid = /^\d+$/.test(group) ? Number(group) : lookup('/etc/group', group)?.[2];
  if (gid === undefined) throw new Error(`gid "${group ?? `(primary group of ${user})`}" is not a known group`);
  return { uid, gid };
}

function lookup(file: string, name: string): number[] | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name) return fields.map((f) => (/^\d+$/.test(f) ? Number(f) : NaN));
  }
  return undefined;
}
