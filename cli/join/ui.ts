/**
 * The terminal client's screen, drawn with blessed boxes: a header (room, the name the server gave, the
 * connection, unread count), the chat and the side panels (cli/join/layout.ts), the plugins' panels, one
 * error line, the input line and the key help. Keys are read from blessed's keypress events, one at a time and in order, into a
 * LineEditor (no blessed textbox: every key and every pasted line is kept).
 *
 * Redraws are batched: a change only schedules a redraw, at most every `redrawMs` (80 ms), so a busy room
 * costs a dozen redraws a second, not one per message.
 */
import blessed from 'blessed';
import { computeLayout, PANELS, thirdSlot, type Layout, type PanelName, type Rect } from './layout.js';
import { headerLine, inputView } from './input-view.js';
import { LineEditor, type Completions } from './line-editor.js';
import { chatLines, clock, fileLines, meetingLines, peopleLines } from './panels.js';
import type { JoinState } from './state.js';
import { fit, seg, toTags, windowOf, type Line } from './text.js';

/** Options of the UI. */
export interface JoinUiOptions {
  /** The header's room, name (the one the server gave, once known) and server. */
  title(): { room: string; name: string; server: string };
  /** The participants' names and the commands, for Tab. */
  completions: Completions;
  /** Called with each line entered (Enter), in order. */
  onLine(line: string): void;
  /** The user confirmed leaving (Ctrl-C or F10, then y). */
  onQuit(): void;
  /** Shortest time between two redraws. Default 80 ms. */
  redrawMs?: number;
}

/** Key help for the bottom line, longest first: the widest that fits is shown. */
const HELP = [
  ' Enter send · Tab complete · ↑↓ history · PgUp/PgDn scroll · F3 next panel · /help · Ctrl-C leave',
  ' Enter send · Tab complete · PgUp/PgDn scroll · F3 panels · /help · Ctrl-C leave',
  ' Tab complete · PgUp/Dn scroll · F3 panels · /help · ^C quit',
  ' Tab · PgUp/Dn · F3 panels · /help · ^C quit',
];

/** A panel: its box, its title and its text for a width. */
interface Panel {
  box: blessed.Widgets.BoxElement;
  title: string;
  lines(width: number): Line[];
}

/** What the keys do: edit a line, answer "leave?", or any key to exit once the client is closed. */
type Mode = 'edit' | 'confirm-quit' | 'ended';

/** The blessed screen of the terminal client. */
export class JoinUi {
  readonly screen: blessed.Widgets.Screen;
  readonly editor = new LineEditor();
  readonly #state: JoinState;
  readonly #options: JoinUiOptions;
  readonly #header: blessed.Widgets.BoxElement;
  /** The panels, in the order F3 goes through them. */
  readonly #panels = new Map<PanelName, Panel>();
  readonly #errorLine: blessed.Widgets.BoxElement;
  readonly #input: blessed.Widgets.BoxElement;
  readonly #help: blessed.Widgets.BoxElement;
  #layout: Layout;
  #focus: PanelName = 'chat';
  /** The panel in the side column's third slot: the meetings, or the plugin panel focused last. */
  #third: PanelName = 'meetings';
  /** Rows scrolled back from the end, per panel (0 or none: the end is in view). */
  readonly #scroll = new Map<PanelName, number>();
  #mode: Mode = 'edit';
  #onExit: (() => void) | undefined;
  #status = 'connecting…';
  /** A one-key hint in the error line (the matches of a Tab), gone at the next key. */
  #hint: string | undefined;
  /** Errors before this index were dismissed with Escape. */
  #dismissed = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #renderedChange = -1;
  /** Redraws done (for tests and the curious). */
  redraws = 0;

  constructor(state: JoinState, options: JoinUiOptions) {
    this.#state = state;
    this.#options = options;
    this.screen = blessed.screen({ smartCSR: true, title: 'Confab', fullUnicode: true });
    // Rows are wrapped and cut here (text.ts), so blessed must not wrap them again: it would wrap a row that
    // fills the width exactly when it ends in a style tag.
    const line = (style: object) => blessed.box({ parent: this.screen, height: 1, tags: true, wrap: false, style });
    this.#header = line({ bg: 'blue', fg: 'white' });
    const selfId = () => [...state.participants.values()].find((p) => p.self)?.id;
    const builtin: Record<string, Omit<Panel, 'box'>> = {
      chat: { title: 'Chat', lines: () => chatLines(state, selfId()) },
      people: { title: 'Participants', lines: (width) => peopleLines(state, width) },
      files: { title: 'Files', lines: (width) => fileLines(state, width) },
      meetings: { title: 'Upcoming meetings', lines: () => meetingLines(state) },
    };
    for (const name of PANELS) this.#panels.set(name, { ...builtin[name]!, box: this.#box() });
    this.#errorLine = line({});
    this.#input = line({});
    this.#help = line({ fg: 'black', bg: 'white' });
    this.#layout = this.#place();
    this.screen.program.hideCursor();
    this.screen.on('keypress', (ch: string | undefined, key: blessed.Widgets.Events.IKeyEventArg | undefined) => this.#onKey(ch, key));
    this.screen.on('resize', () => {
      this.#layout = this.#place();
      this.schedule(true);
    });
    this.render();
  }

  /** Sets the connection status shown in the header. */
  setStatus(status: string): void {
    this.#status = status;
    this.schedule(true);
  }

  /** True while the end of the chat is on screen: a message arriving now is read. */
  get chatInView(): boolean {
    return this.#layout.panels.chat !== undefined && (this.#scroll.get('chat') ?? 0) === 0;
  }

  /** Shows help lines as notices in the chat. */
  showHelp(lines: readonly string[]): void {
    for (const text of lines) this.#state.notice(text);
    this.#scroll.set('chat', 0);
    this.schedule();
  }

  /**
   * Adds a panel after the others (a plugin's, named after its plugin): F3 reaches it, and on a wide
   * terminal it takes the side column's third slot while it is the last of those focused.
   */
  addPanel(name: PanelName, title: string, lines: (width: number) => Line[]): void {
    this.#panels.set(name, { title, lines, box: this.#box() });
    this.#layout = this.#place();
    this.schedule(true);
  }

  /** The client closed for good: the screen stays (with the conversation) until a key is pressed. */
  ended(onExit: () => void): void {
    this.#mode = 'ended';
    this.#onExit = onExit;
    this.setStatus('disconnected');
  }

  /** Asks for a redraw within `redrawMs`; `force` redraws even if the state did not change. */
  schedule(force = false): void {
    if (force) this.#renderedChange = -1;
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.render();
    }, this.#options.redrawMs ?? 80);
  }

  /** Redraws now, if anything changed. */
  render(): void {
    if (this.#renderedChange === this.#state.changed) return;
    this.#renderedChange = this.#state.changed;
    this.redraws++;
    if (this.chatInView) this.#state.markRead();
    const { room, name, server } = this.#options.title();
    this.screen.title = `Confab: ${name} in ${room}`;
    const unread = this.#state.unread > 0 ? ` · ${this.#state.unread} unread` : '';
    const header = headerLine(` Confab · ${room} · ${name}${unread} · ${this.#status}`, `${server} `, this.#layout.header.width);
    this.#header.setContent(toTags([seg(header)]));
    for (const [name, panel] of this.#panels) {
      const rect = this.#layout.panels[name];
      if (!rect) continue;
      const inner = rect.width - 2;
      panel.box.setContent(windowOf(panel.lines(inner), inner, rect.height - 2, this.#scroll.get(name) ?? 0).map(toTags).join('\n'));
      panel.box.setLabel(` ${this.#focus === name && this.#layout.side ? '▸ ' : ''}${panel.title}${this.#layout.side ? '' : this.#narrowHint()} `);
    }
    this.#errorLine.setContent(toTags(this.#errorText()));
    this.#input.setContent(toTags(inputView(this.editor.text, this.editor.cursor, this.#layout.input.width)));
    this.#help.setContent(HELP.find((help) => help.length <= this.#layout.help.width) ?? HELP[HELP.length - 1]!);
    this.screen.render();
  }

  /** Leaves the terminal as it was. */
  destroy(): void {
    clearTimeout(this.#timer);
    this.screen.destroy();
  }

  #narrowHint(): string {
    return ` · F3: ${this.#panels.get(this.#nextPanel())!.title}`;
  }

  /** The panel after the focused one, in F3's order. */
  #nextPanel(): PanelName {
    const names = [...this.#panels.keys()];
    return names[(names.indexOf(this.#focus) + 1) % names.length]!;
  }

  #box(): blessed.Widgets.BoxElement {
    return blessed.box({ parent: this.screen, border: 'line', tags: true, wrap: false });
  }

  #errorText(): Line {
    if (this.#mode === 'confirm-quit') return [seg('Leave the room? y: leave · any other key: stay', 'yellow-fg', 'bold')];
    if (this.#mode === 'ended') {
      const last = this.#state.errors[this.#state.errors.length - 1];
      return [seg(`✗ ${last ? last.text : 'disconnected'} · press any key to exit`, 'red-fg', 'bold')];
    }
    if (this.#hint !== undefined) return [seg(fit(this.#hint, this.#layout.errorLine.width), 'gray-fg')];
    const errors = this.#state.errors.slice(this.#dismissed);
    const last = errors[errors.length - 1];
    if (!last) return [];
    const more = errors.length > 1 ? `[+${errors.length - 1} earlier] ` : '';
    return [seg(fit(`✗ ${clock(last.ts)} ${more}${last.text} · Esc dismisses`, this.#layout.errorLine.width), 'red-fg')];
  }

  /** Sizes the boxes for the terminal's current size. */
  #place(): Layout {
    const layout = computeLayout(Number(this.screen.width), Number(this.screen.height), this.#focus, this.#third);
    const put = (box: blessed.Widgets.BoxElement, rect: Rect | undefined) => {
      if (!rect) return void box.hide();
      Object.assign(box.position, rect);
      box.top = rect.top;
      box.left = rect.left;
      box.width = rect.width;
      box.height = rect.height;
      box.show();
    };
    put(this.#header, layout.header);
    for (const [name, panel] of this.#panels) put(panel.box, layout.panels[name]);
    put(this.#errorLine, layout.errorLine);
    put(this.#input, layout.input);
    put(this.#help, layout.help);
    return layout;
  }

  #onKey(ch: string | undefined, key: blessed.Widgets.Events.IKeyEventArg | undefined): void {
    const name = key?.full ?? key?.name ?? '';
    this.#hint = undefined;
    if (this.#mode === 'ended') return this.#onExit?.();
    if (this.#mode === 'confirm-quit') {
      this.#mode = 'edit';
      if (name === 'y' || name === 'S-y' || name === 'C-c') return this.#options.onQuit();
      return this.schedule(true);
    }
    if (name === 'C-c' || name === 'f10') {
      this.#mode = 'confirm-quit';
      return this.schedule(true);
    }
    if (!this.#navigate(name)) this.#edit(ch, name);
    this.schedule(true);
  }

  /** Panel keys: PgUp/PgDn scroll the focused panel, F3 focuses the next, Escape dismisses the errors. */
  #navigate(name: string): boolean {
    const rect = this.#layout.panels[this.#focus];
    const page = Math.max(1, (rect?.height ?? 6) - 3);
    const scrolled = this.#scroll.get(this.#focus) ?? 0;
    switch (name) {
      case 'pageup':
        this.#scroll.set(this.#focus, scrolled + page);
        return true;
      case 'pagedown':
        this.#scroll.set(this.#focus, Math.max(0, scrolled - page));
        return true;
      case 'f3':
        this.#focus = this.#nextPanel();
        this.#third = thirdSlot(this.#focus, this.#third);
        this.#layout = this.#place();
        return true;
      case 'escape':
        if (this.#dismissed < this.#state.errors.length) this.#dismissed = this.#state.errors.length;
        else this.editor.clear();
        return true;
      default:
        return false;
    }
  }

  #edit(ch: string | undefined, name: string): void {
    const editor = this.editor;
    const moves: Record<string, () => void> = {
      left: () => editor.left(), right: () => editor.right(), 'C-b': () => editor.left(), 'C-f': () => editor.right(),
      home: () => editor.home(), end: () => editor.end(), 'C-a': () => editor.home(), 'C-e': () => editor.end(),
      'C-left': () => editor.wordLeft(), 'C-right': () => editor.wordRight(), 'M-b': () => editor.wordLeft(), 'M-f': () => editor.wordRight(),
      backspace: () => editor.backspace(), delete: () => editor.deleteForward(), 'C-d': () => editor.deleteForward(),
      'C-u': () => editor.killToStart(), 'C-k': () => editor.killToEnd(), 'C-w': () => editor.killWord(), 'C-y': () => editor.yank(),
      up: () => editor.historyUp(), down: () => editor.historyDown(), 'C-p': () => editor.historyUp(), 'C-n': () => editor.historyDown(),
      'C-l': () => this.screen.realloc(),
      tab: () => {
        const matches = editor.complete(this.#options.completions);
        if (matches.length > 1) this.#hint = `Tab: ${matches.join('  ')}`;
      },
      return: () => this.#submit(),
      enter: () => this.#submit(),
    };
    const move = moves[name];
    if (move) return move();
    // Printable text (a key or a pasted character); other control keys are ignored.
    if (ch !== undefined && ch.length > 0 && !/[\u0000-\u001f\u007f]/.test(ch)) editor.insert(ch);
  }

  #submit(): void {
    const line = this.editor.submit();
    this.#scroll.set('chat', 0);
    if (this.#focus !== 'chat' && !this.#layout.side) {
      this.#focus = 'chat';
      this.#layout = this.#place();
    }
    this.#options.onLine(line);
  }
}
