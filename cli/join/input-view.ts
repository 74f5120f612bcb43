/**
 * How the input line is drawn: a `> ` prompt, the part of the text around the cursor that fits the width
 * (the line scrolls sideways when it is longer), and the cursor as an inverse cell.
 */
import { seg, type Line } from './text.js';

/** The prompt before the text. */
const PROMPT = '> ';

/**
 * The input line for `text` with the cursor at UTF-16 index `cursor`, in `width` columns.
 *
 * @example
 *   inputView('hello', 5, 20)  // '> hello' and an inverse space for the cursor
 */
export function inputView(text: string, cursor: number, width: number): Line {
  const chars = Array.from(text);
  const at = Array.from(text.slice(0, cursor)).length;
  const room = Math.max(1, width - PROMPT.length);
  // Keep the cursor in view, with the text before it shown as far as it fits.
  const start = Math.max(0, at - room + 1);
  const shown = chars.slice(start, start + room);
  const column = at - start;
  const before = shown.slice(0, column).join('');
  const under = shown[column] ?? ' ';
  const after = shown.slice(column + 1).join('');
  return [seg(start > 0 ? '…' : '>', 'bold'), seg(' '), seg(before), seg(under, 'inverse'), seg(after)];
}

/** The left and right parts of the header in `width` columns: the right part goes when both do not fit. */
export function headerLine(left: string, right: string, width: number): string {
  const leftChars = Array.from(left);
  if (leftChars.length >= width) return `${leftChars.slice(0, Math.max(0, width - 1)).join('')}…`;
  const gap = width - leftChars.length - Array.from(right).length;
  return gap >= 1 ? left + ' '.repeat(gap) + right : left;
}
