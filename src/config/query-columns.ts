// What a SELECT's column list names, read from the SQL text alone (the config loader has no
// database to ask). Enough for the one question r2d2 asks before a login: does the query
// return a `password` column for r2d2 to verify?

/** The output names of the first SELECT's columns: an alias, else the column (table prefix and quotes removed). */
export function selectedColumnNames(sql: string): string[] {
  const start = /\bselect\b/i.exec(sql);
  if (start === null) return [];
  const items: string[] = [];
  let depth = 0;
  let item = '';
  let quote: string | undefined;
  for (let i = start.index + start[0].length; i < sql.length; i++) {
    const c = sql[i] ?? '';
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      item += c;
      continue;
    }
    if (c === "'" || c === '"' || c === '`') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (depth === 0 && c === ',') {
      items.push(item);
      item = '';
      continue;
    } else if (depth === 0 && /^from\b/i.test(sql.slice(i)) && /\s/.test(sql[i - 1] ?? ' ')) break;
    item += c;
  }
  items.push(item);
  return items.map(outputName).filter((name) => name.length > 0);
}

function outputName(item: string): string {
  const words = item.trim().split(/\s+/);
  const last = words[words.length - 1] ?? '';
  const name = last.split('.').pop() ?? '';
  return name.replace(/^[`"]|[`"]$/g, '').toLowerCase();
}

export function selectsPasswordColumn(sql: string): boolean {
  return selectedColumnNames(sql).includes('password');
}
