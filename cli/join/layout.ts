/**
 * Where the terminal client's parts go for a terminal size: a header line, the body, the error line, the
 * input line and the key help. From 80 columns the participants, the files and a third panel stack in a
 * column beside the chat: the meetings, or the plugin panel (core/client/extensions.ts) focused last.
 * Narrower, the body shows one panel at a time (F3 switches). Pure, so it is tested alone.
 */

/** A panel of the body: a built-in one, or a plugin's (named after its plugin). */
export type PanelName = string;

/** The built-in panels, in the order F3 goes through them; plugins' panels follow. */
export const PANELS: readonly PanelName[] = ['chat', 'people', 'files', 'meetings'];

/** The panels that always have a place in the wide layout; the others take turns in the third slot. */
const FIXED: readonly PanelName[] = ['chat', 'people', 'files'];

/** A rectangle in cells. */
export interface Rect {
  top: number;
  left: number;
  width: number;
  height: number;
}

/** Where everything goes; a panel without a rectangle is hidden. */
export interface Layout {
  header: Rect;
  panels: Partial<Record<PanelName, Rect>>;
  /** True when the panels share the body (wide); false when one fills it (narrow). */
  side: boolean;
  errorLine: Rect;
  input: Rect;
  help: Rect;
}

/** Narrowest terminal with the side column. */
export const SIDE_MIN_COLUMNS = 80;

/**
 * The layout for `columns` × `rows`, with `focus` the panel the narrow layout shows, and `third` the panel
 * in the side column's third slot of the wide layout (default the meetings).
 *
 * @example
 *   computeLayout(80, 24, 'chat').panels.chat  // { top: 1, left: 0, width: 52, height: 20 }
 *   computeLayout(80, 24, 'chat', 'polls').panels.polls  // where the meetings were
 */
export function computeLayout(columns: number, rows: number, focus: PanelName, third: PanelName = 'meetings'): Layout {
  const width = Math.max(columns, 1);
  const height = Math.max(rows, 5);
  const bodyHeight = height - 4;
  const line = (top: number): Rect => ({ top, left: 0, width, height: 1 });
  const layout: Layout = {
    header: line(0),
    panels: {},
    side: width >= SIDE_MIN_COLUMNS,
    errorLine: line(height - 3),
    input: line(height - 2),
    help: line(height - 1),
  };
  if (!layout.side) {
    layout.panels[focus] = { top: 1, left: 0, width, height: bodyHeight };
    return layout;
  }
  const sideWidth = width >= 120 ? 36 : 28;
  layout.panels.chat = { top: 1, left: 0, width: width - sideWidth, height: bodyHeight };
  const people = Math.max(3, Math.floor(bodyHeight * 0.35));
  const meetings = Math.max(3, Math.floor(bodyHeight * 0.25));
  const files = Math.max(3, bodyHeight - people - meetings);
  const left = width - sideWidth;
  layout.panels.people = { top: 1, left, width: sideWidth, height: people };
  layout.panels.files = { top: 1 + people, left, width: sideWidth, height: files };
  layout.panels[third] = { top: 1 + people + files, left, width: sideWidth, height: meetings };
  return layout;
}

/** The panel the third slot shows once `focus` is focused: `focus` itself unless it has a place of its own. */
export function thirdSlot(focus: PanelName, current: PanelName): PanelName {
  return FIXED.includes(focus) ? current : focus;
}
