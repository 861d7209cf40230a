// The c11n check shared by every query format string (maildrop, deliver recipient and domain):
// each `%` starts one of the letters its query binds (src/accounts/query-format.ts) or `%%`.

/** A check for one kind of query: `letters` are its substitutions, `hint` names them in the error. */
export function queryFormatCheck(letters: string, hint: string): (format: string) => string | undefined {
  return (format) => {
    if (format.trim() === '') return 'must not be empty';
    for (let i = 0; i < format.length; i++) {
      if (format[i] !== '%') continue;
      const next = format[i + 1];
      if (next === undefined) return 'ends with a lone "%" (write %% for a literal percent)';
      if (next !== '%' && !letters.includes(next)) {
        return `has an unknown substitution "%${next}" at character ${i + 1} (${hint})`;
      }
      i++;
    }
    return undefined;
  };
}
