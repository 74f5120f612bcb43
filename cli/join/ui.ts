/**
 * The terminal client's screen, drawn with blessed: participants and upcoming meetings on the left, the chat
 * in the middle, files and transfers on the right, the input line and a help line at the bottom.
 *
 * Redraws are batched: a change only schedules a redraw, and the screen is redrawn at most every
 * `redrawMs` (80 ms), so a busy room (levels 5 times a second from many speakers, a flood of chat) costs
 * a dozen redraws a second, not one per message.
 */
import blessed from 'blessed';
import { COMMAND_HELP } from './commands.js';
import type { JoinState, TransferView } from './state.js';

/** Options of the UI. */
export interface JoinUiOptions {
  /** The header: room, name, server. */
  title: string;
  /** Called with each line typed (Enter). */
  onLine(line: string): void;
  /** F2. */
  onToggleMute(): void;
  /** Ctrl-C, F10 or /quit. */
  onQuit(): void;
  /** Shortest time between two redraws. Default 80 ms. */
  redrawMs?: number;
}

export const HELP_LINE = ' Enter send | /msg NAME text | /upload PATH | /download N | /help | F2 mute | PgUp/PgDn scroll | F10/Ctrl-C quit';

/** The blessed screen of the terminal client. */
export class JoinUi {
  readonly screen: blessed.Widgets.Screen;
  readonly #state: JoinState;
  readonly #options: JoinUiOptions;
  readonly #header: blessed.Widgets.BoxElement;
  readonly #people: blessed.Widgets.BoxElement;
  readonly #meetings: blessed.Widgets.BoxElement;
  readonly #chat: blessed.Widgets.BoxElement;
  readonly #files: blessed.Widgets.BoxElement;
  readonly #input: blessed.Widgets.TextboxElement;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #renderedChange = -1;
  #status = 'connecting';
  /** Lines scrolled back from the end of the chat. */
  #scroll = 0;
  /** Redraws done (for tests and the curious). */
  redraws = 0;

  constructor(state: JoinState, options: JoinUiOptions) {
    this.#state = state;
    this.#options = options;
    this.screen = blessed.screen({ smartCSR: true, title: 'Confab', fullUnicode: true, autoPadding: true });
    this.#header = blessed.box({ parent: this.screen, top: 0, left: 0, width: '100%', height: 1, tags: true, style: { bg: 'blue', fg: 'white' } });
    this.#people = blessed.box({ parent: this.screen, label: ' Participants ', top: 1, left: 0, width: 28, height: '60%-1', border: 'line', tags: true });
    this.#meetings = blessed.box({ parent: this.screen, label: ' Upcoming meetings ', top: '60%', left: 0, width: 28, bottom: 4, border: 'line', tags: true });
    this.#chat = blessed.box({ parent: this.screen, label: ' Chat ', top: 1, left: 28, right: 36, bottom: 4, border: 'line', tags: true, scrollable: true });
    this.#files = blessed.box({ parent: this.screen, label: ' Files ', top: 1, right: 0, width: 36, bottom: 4, border: 'line', tags: true });
    this.#input = blessed.textbox({ parent: this.screen, label: ' Message ', bottom: 1, left: 0, width: '100%', height: 3, border: 'line', inputOnFocus: true, keys: true });
    blessed.box({ parent: this.screen, bottom: 0, left: 0, width: '100%', height: 1, content: HELP_LINE, style: { fg: 'black', bg: 'white' } });

    this.#input.on('submit', (value: string) => {
      this.#input.clearValue();
      this.#input.focus();
      this.#scroll = 0;
      options.onLine(value);
      this.schedule();
    });
    // Escape empties the line without leaving the input.
    this.#input.on('cancel', () => {
      this.#input.clearValue();
      this.#input.focus();
      this.schedule();
    });
    // The focused textbox takes every key; these are read from it as well as from the screen.
    const keys = (names: string[], handler: () => void) => {
      this.screen.key(names, handler);
      this.#input.key(names, handler);
    };
    let quitting = false;
    keys(['C-c', 'f10'], () => {
      if (quitting) return;
      quitting = true;
      options.onQuit();
    });
    keys(['f2'], () => options.onToggleMute());
    keys(['pageup'], () => this.#scrollBy(5));
    keys(['pagedown'], () => this.#scrollBy(-5));
    this.screen.on('resize', () => this.schedule(true));
    this.#input.focus();
    this.render();
  }

  /** Sets the connection status shown in the header. */
  setStatus(status: string): void {
    this.#status = status;
    this.schedule(true);
  }

  /** Shows the command help in the chat area. */
  showHelp(): void {
    for (const line of COMMAND_HELP) this.#state.notice(line);
    this.schedule();
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
    this.#header.setContent(` {bold}Confab{/bold}  ${blessed.escape(this.#options.title)}  {|}${blessed.escape(this.#status)} `);
    this.#people.setContent(this.#participantsText());
    this.#meetings.setContent(this.#meetingsText());
    this.#chat.setContent(this.#chatText());
    // Long lines wrap: keep the newest line in view.
    this.#chat.setScrollPerc(100);
    this.#files.setContent(this.#filesText());
    this.screen.render();
  }

  /** Leaves the terminal as it was. */
  destroy(): void {
    clearTimeout(this.#timer);
    this.screen.destroy();
  }

  #scrollBy(lines: number): void {
    this.#scroll = Math.max(0, this.#scroll + lines);
    this.schedule(true);
  }

  #participantsText(): string {
    const lines = this.#state.sortedParticipants().map((p) => {
      const speaking = p.level !== undefined && !p.muted ? '{green-fg}◀{/green-fg}' : ' ';
      const mic = p.muted ? '{red-fg}✗mic{/red-fg}' : '{green-fg}mic{/green-fg}';
      const cam = p.camera ? '{cyan-fg}cam{/cyan-fg}' : '{gray-fg}---{/gray-fg}';
      const name = blessed.escape(p.name.length > 14 ? `${p.name.slice(0, 13)}…` : p.name);
      return `${speaking} ${p.self ? `{bold}${name}{/bold}` : name}`.padEnd(0) + ` ${mic} ${cam}`;
    });
    return [`{gray-fg}${this.#state.participants.size} in the room{/gray-fg}`, ...lines].join('\n');
  }

  #meetingsText(): string {
    if (this.#state.meetings.length === 0) return '{gray-fg}none scheduled{/gray-fg}';
    return this.#state.meetings
      .slice(0, 10)
      .map((m) => {
        const when = new Date(m.startMs);
        const now = Date.now();
        const label = m.startMs <= now ? '{green-fg}now{/green-fg}' : `${when.toLocaleDateString('en-GB', { day: '2-digit', month: 'short' })} ${when.toTimeString().slice(0, 5)}`;
        return `${label} ${blessed.escape(m.title)}\n  {gray-fg}room ${blessed.escape(m.room)}, ${m.durationMinutes} min{/gray-fg}`;
      })
      .join('\n');
  }

  #chatText(): string {
    const selfId = [...this.#state.participants.values()].find((p) => p.self)?.id;
    const entries = [
      ...this.#state.messages.map((m) => ({ ts: m.ts, text: this.#messageLine(m, selfId) })),
      ...this.#state.notices.map((n) => ({ ts: n.ts, text: `{gray-fg}${time(n.ts)} * ${blessed.escape(n.text)}{/gray-fg}` })),
    ].sort((a, b) => a.ts - b.ts);
    const height = Math.max(1, Number(this.#chat.height) - 2);
    const end = Math.max(0, entries.length - this.#scroll);
    return entries.slice(Math.max(0, end - height), end).map((e) => e.text).join('\n');
  }

  #messageLine(m: JoinState['messages'][number], selfId: string | undefined): string {
    const text = blessed.escape(m.text);
    const from = blessed.escape(m.from.name);
    if (m.to) {
      const who = m.from.id === selfId ? `you → ${blessed.escape(m.to.name)}` : `${from} → you`;
      return `${time(m.ts)} {magenta-fg}${who} (private): ${text}{/magenta-fg}`;
    }
    return `${time(m.ts)} {bold}${from}{/bold}: ${text}`;
  }

  #filesText(): string {
    const files = this.#state.files.map((f, i) => `${String(i + 1).padStart(2)}. ${blessed.escape(f.name)}\n    {gray-fg}${size(f.size)} from ${blessed.escape(f.from.name)}${f.to ? ' (private)' : ''}{/gray-fg}`);
    const transfers = this.#state.transfers.slice(-6).map((t) => transferLine(t));
    return [...(files.length ? files : ['{gray-fg}no files shared yet{/gray-fg}']), ...(transfers.length ? ['', '{bold}Transfers{/bold}', ...transfers] : [])].join('\n');
  }
}

/** `▲ slides.pdf [#####.....] 52%` */
function transferLine(t: TransferView): string {
  const arrow = t.kind === 'upload' ? '▲' : '▼';
  const name = blessed.escape(t.name.length > 16 ? `${t.name.slice(0, 15)}…` : t.name);
  if (t.status !== 'running' && t.status !== 'done') return `${arrow} ${name} {red-fg}${blessed.escape(t.status)}{/red-fg}`;
  const fraction = t.total === 0 ? 1 : t.done / t.total;
  const filled = Math.round(fraction * 10);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(10 - filled)}]`;
  return `${arrow} ${name} ${bar} ${t.status === 'done' ? '{green-fg}done{/green-fg}' : `${Math.floor(fraction * 100)}%`}`;
}

function time(ts: number): string {
  return new Date(ts).toTimeString().slice(0, 5);
}

function size(bytes: number): string {
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(1)} kB`;
  return `${bytes} B`;
}
