/**
 * Aligned text tables for the CLI's listings (`confab file list`, `confab schedule list`).
 */

/**
 * The header and rows as columns padded to the widest cell, two spaces apart, without trailing spaces.
 *
 * @example
 *   table(['ID', 'NAME'], [['a1', 'notes.txt']])  // 'ID  NAME\na1  notes.txt\n'
 */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, column) => Math.max(...all.map((row) => Array.from(row[column] ?? '').length)));
  return all.map((row) => row.map((cell, column) => cell + ' '.repeat(widths[column]! - Array.from(cell).length)).join('  ').trimEnd()).join('\n') + '\n';
}
