/**
 * Tiny DOM helpers for the web client: find an element by id (failing loudly when the page and the code
 * disagree) and build elements without innerHTML (so names and messages from the network stay text).
 */

/** The element with this id; throws when the page has none, which is a bug in index.html or the code. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`index.html has no element #${id}`);
  return element as T;
}

/** Attributes and properties `h()` sets: `class`, `text`, `data-*`/`aria-*` and any other attribute. */
export type Attributes = Record<string, string | number | boolean | undefined>;

/**
 * Creates an element with attributes and children (strings become text nodes).
 *
 * @example
 *   h('li', { class: 'message', 'data-id': id }, h('strong', {}, name), ': ', text)
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (key === 'class') element.className = String(value);
    else if (key === 'text') element.textContent = String(value);
    else element.setAttribute(key, value === true ? '' : String(value));
  }
  element.append(...children);
  return element;
}

/** A byte count for people: `512 B`, `1.5 KiB`, `12.3 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** A clock time for a message (`14:05`), with the date when it is not today. */
export function formatTime(ms: number): string {
  const date = new Date(ms);
  const time = date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return date.toDateString() === new Date().toDateString() ? time : `${date.toLocaleDateString()} ${time}`;
}

/** Up to two initials of a name, for a tile without video: `Ada Lovelace` → `AL`, `bob (you)` → `BO`. */
export function initials(name: string): string {
  // A note in parentheses (the own tile's "(you)") and a uniqueness suffix (`_2`) are not part of the name.
  const bare = name.replace(/\s*\(.*\)$/, '').replace(/_\d+$/, '') || name;
  const words = bare.split(/[\s._-]+/).filter(Boolean);
  return (words.length > 1 ? words[0]![0]! + words[1]![0]! : bare.slice(0, 2)).toUpperCase();
}
