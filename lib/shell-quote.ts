// One word for a POSIX shell, whatever it holds: single quotes, with each ' written as '\''.
// For values put into commands and scripts a person runs (install.sh, the enrollment one-liner).
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
