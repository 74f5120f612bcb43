/**
 * The client's icons: small hand-written SVGs (24×24, drawn with `currentColor` strokes so they follow the
 * button's text colour and contrast). They replace emoji, which show as empty boxes on machines without an
 * emoji font. Icons are decoration: each is `aria-hidden` and sits next to a text label.
 */

/** One SVG shape: its element name and attributes. */
type Shape = readonly [tag: 'path' | 'rect' | 'circle', attributes: Readonly<Record<string, string | number>>];

const SLASH: Shape = ['path', { d: 'M3 3l18 18' }];
const MIC: Shape[] = [
  ['rect', { x: 9, y: 2, width: 6, height: 12, rx: 3 }],
  ['path', { d: 'M5 10v1a7 7 0 0 0 14 0v-1M12 18v4M8 22h8' }],
];
const CAMERA: Shape[] = [
  ['rect', { x: 2, y: 6, width: 14, height: 12, rx: 2 }],
  ['path', { d: 'M16 10.5l6-3.5v10l-6-3.5z' }],
];
const SCREEN: Shape[] = [
  ['rect', { x: 2, y: 3, width: 20, height: 14, rx: 2 }],
  ['path', { d: 'M8 21h8M12 17v4' }],
];

const ICONS = {
  mic: MIC,
  'mic-off': [...MIC, SLASH],
  camera: CAMERA,
  'camera-off': [...CAMERA, SLASH],
  screen: SCREEN,
  'screen-share': [...SCREEN, ['path', { d: 'M12 13V7M9 10l3-3 3 3' }]],
  gallery: [
    ['rect', { x: 3, y: 3, width: 8, height: 8, rx: 1 }],
    ['rect', { x: 13, y: 3, width: 8, height: 8, rx: 1 }],
    ['rect', { x: 3, y: 13, width: 8, height: 8, rx: 1 }],
    ['rect', { x: 13, y: 13, width: 8, height: 8, rx: 1 }],
  ],
  speaker: [
    ['rect', { x: 3, y: 3, width: 18, height: 12, rx: 1 }],
    ['rect', { x: 3, y: 17, width: 5, height: 4, rx: 1 }],
    ['rect', { x: 9.5, y: 17, width: 5, height: 4, rx: 1 }],
    ['rect', { x: 16, y: 17, width: 5, height: 4, rx: 1 }],
  ],
  devices: [
    ['path', { d: 'M4 6h9M17 6h3M4 12h3M11 12h9M4 18h11M19 18h1' }],
    ['circle', { cx: 15, cy: 6, r: 2 }],
    ['circle', { cx: 9, cy: 12, r: 2 }],
    ['circle', { cx: 17, cy: 18, r: 2 }],
  ],
  panel: [
    ['rect', { x: 3, y: 4, width: 18, height: 16, rx: 2 }],
    ['path', { d: 'M15 4v16' }],
  ],
  leave: [['path', { d: 'M10 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h5M16 17l5-5-5-5M21 12H9' }]],
  logo: [
    ['circle', { cx: 12, cy: 12, r: 9 }],
    ['circle', { cx: 12, cy: 12, r: 4, fill: 'currentColor' }],
  ],
} satisfies Record<string, readonly Shape[]>;

/** The name of one of the client's icons. */
export type IconName = keyof typeof ICONS;

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Builds the `<svg>` of an icon, hidden from assistive technology (its button's label names it). */
export function icon(name: IconName): SVGSVGElement {
  const svg = document.createElementNS(SVG_NS, 'svg');
  for (const [key, value] of Object.entries({
    viewBox: '0 0 24 24', width: '1.25em', height: '1.25em', fill: 'none', stroke: 'currentColor',
    'stroke-width': 2, 'stroke-linecap': 'round', 'stroke-linejoin': 'round', 'aria-hidden': 'true', focusable: 'false',
  })) svg.setAttribute(key, String(value));
  svg.classList.add('icon');
  svg.dataset.icon = name;
  const shapes: readonly Shape[] | undefined = ICONS[name];
  if (!shapes) throw new Error(`the web client has no icon "${name}"`);
  for (const [tag, attributes] of shapes) {
    const shape = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attributes)) shape.setAttribute(key, String(value));
    svg.append(shape);
  }
  return svg;
}

/** Puts the icon `name` in place of `slot`'s current icon, or first inside it when it has none. */
export function setIcon(slot: Element, name: IconName): void {
  const current = slot.querySelector(':scope > svg.icon');
  if (current?.getAttribute('data-icon') === name) return;
  if (current) current.replaceWith(icon(name));
  else slot.prepend(icon(name));
}

/** Fills every `[data-icon]` placeholder of the page (`<span data-icon="mic">`) with its icon. */
export function renderIcons(root: ParentNode = document): void {
  for (const placeholder of root.querySelectorAll<HTMLElement>('span[data-icon]')) {
    placeholder.replaceWith(icon(placeholder.dataset.icon as IconName));
  }
}
