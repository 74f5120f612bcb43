/**
 * Styled text for the terminal client's panels: lines made of segments with a style, wrapped to a panel's
 * width, cut to its height around a scroll position, and turned into blessed tags (escaped, so nothing a
 * participant types can inject a tag).
 */
import blessed from 'blessed';

/** A blessed style: tag names such as `bold`, `gray-fg`, `red-fg`, `inverse`. */
export type Style = readonly string[];

/** A run of text in one style. */
export interface Segment {
  text: string;
  style?: Style;
}

/** One logical line (a message, a notice, a participant) before wrapping. */
export type Line = Segment[];

/** Shorthand for a segment. */
export function seg(text: string, ...style: string[]): Segment {
  return style.length === 0 ? { text } : { text, style };
}

/**
 * Wraps a line to `width` columns (one column per code point; control characters are shown as `?`), at
 * spaces where it can, inside a word where it must. Always at least one (maybe empty) row.
 */
export function wrap(line: Line, width: number): Line[] {
  const columns = Math.max(1, width);
  const cells: Array<{ char: string; style?: Style }> = [];
  for (const segment of line) {
    for (const char of segment.text) cells.push({ char: /[\u0000-\u001f\u007f-\u009f]/.test(char) ? '?' : char, style: segment.style });
  }
  const rows: Line[] = [];
  let start = 0;
  while (start < cells.length) {
    let end = Math.min(start + columns, cells.length);
    let next = end;
    if (end < cells.length) {
      // Break at the last space that fits (the space itself ends the row and is not drawn).
      const space = cells.slice(start, end + 1).map((cell) => cell.char).lastIndexOf(' ');
      if (space > 0) {
        end = start + space;
        next = end + 1;
      }
    }
    rows.push(toSegments(cells.slice(start, end)));
    start = next;
  }
  return rows.length > 0 ? rows : [[]];
}

/**
 * The rows of `lines` (wrapped to `width`) that fit `height`, `scroll` rows up from the end. The first and
 * last rows say how many more there are (`↑ 12 more (PgUp)`, `↓ 3 more (PgDn)`) when some are hidden.
 */
export function windowOf(lines: readonly Line[], width: number, height: number, scroll: number): Line[] {
  const rows = lines.flatMap((line) => wrap(line, width));
  if (height <= 0) return [];
  if (rows.length <= height) return rows;
  const offset = Math.max(0, Math.min(scroll, rows.length - height));
  const end = rows.length - offset;
  const shown = rows.slice(end - height, end);
  // A row at each cut edge says how much more there is (counting the row it replaces).
  const above = end - height > 0 ? end - height + 1 : 0;
  const below = end < rows.length ? rows.length - end + 1 : 0;
  if (above > 0) shown[0] = [seg(`↑ ${above} more (PgUp)`, 'gray-fg')];
  if (below > 0) shown[shown.length - 1] = [seg(`↓ ${below} more (PgDn)`, 'gray-fg')];
  return shown;
}

/** A row as blessed tag markup, its text escaped. */
export function toTags(row: Line): string {
  return row.map(({ text, style }) => {
    const escaped = blessed.escape(text);
    if (!style || style.length === 0) return escaped;
    return style.map((tag) => `{${tag}}`).join('') + escaped + [...style].reverse().map((tag) => `{/${tag}}`).join('');
  }).join('');
}

/** Cuts text to `width` columns with an ellipsis. */
export function fit(text: string, width: number): string {
  const chars = Array.from(text);
  if (chars.length <= width) return text;
  return width <= 1 ? chars.slice(0, width).join('') : `${chars.slice(0, width - 1).join('')}…`;
}

function toSegments(cells: Array<{ char: string; style?: Style }>): Line {
  const row: Line = [];
  for (const cell of cells) {
    const last = row[row.length - 1];
    if (last && last.style === cell.style) last.text += cell.char;
    else row.push(cell.style ? { text: cell.char, style: cell.style } : { text: cell.char });
  }
  return row;
}
