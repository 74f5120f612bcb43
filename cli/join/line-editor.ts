/**
 * The terminal client's input line as a model, apart from drawing and keys: text and cursor, the editing
 * moves of a shell (Emacs keys, as readline has them), input history and Tab completion. The UI maps keys to
 * these calls and draws `text` with the cursor at `cursor`.
 */

/** Lines of input history kept. */
const HISTORY_LIMIT = 500;

/** What Tab can complete: the participants' names and the commands (with their `/`). */
export interface Completions {
  names(): string[];
  commands(): string[];
}

/** A Tab in progress: where the word starts and ends now, the matches, and which one is shown. */
interface Completing {
  start: number;
  end: number;
  matches: string[];
  index: number;
  /** What follows the completed word (`: ` after a name that starts a line, else a space). */
  suffix: string;
}

/** One line being edited. The cursor is a UTF-16 index that never splits a surrogate pair. */
export class LineEditor {
  #text = '';
  #cursor = 0;
  readonly #history: string[] = [];
  /** Position in the history while browsing with Up/Down (history.length: the line being written). */
  #browsing = 0;
  /** The line being written when browsing started, given back by Down at the end. */
  #draft = '';
  #completing: Completing | undefined;
  /** The last text killed (Ctrl-U, Ctrl-W, Ctrl-K), for Ctrl-Y. */
  #killed = '';

  /** The text of the line. */
  get text(): string {
    return this.#text;
  }

  /** Where the cursor is, as an index into `text`. */
  get cursor(): number {
    return this.#cursor;
  }

  /** Types text at the cursor (a key, or a paste without newlines). */
  insert(text: string): void {
    this.#edit(this.#text.slice(0, this.#cursor) + text + this.#text.slice(this.#cursor), this.#cursor + text.length);
  }

  /** Left. */
  left(): void {
    this.#move(this.#cursor - charBefore(this.#text, this.#cursor).length);
  }

  /** Right. */
  right(): void {
    this.#move(this.#cursor + charAt(this.#text, this.#cursor).length);
  }

  /** Ctrl-Left / Alt-B: to the start of the word before the cursor. */
  wordLeft(): void {
    this.#move(wordStart(this.#text, this.#cursor));
  }

  /** Ctrl-Right / Alt-F: past the end of the word after the cursor. */
  wordRight(): void {
    const rest = this.#text.slice(this.#cursor);
    const match = /^\s*\S+/.exec(rest);
    this.#move(this.#cursor + (match ? match[0].length : rest.length));
  }

  /** Home, Ctrl-A. */
  home(): void {
    this.#move(0);
  }

  /** End, Ctrl-E. */
  end(): void {
    this.#move(this.#text.length);
  }

  /** Backspace: deletes the character before the cursor. */
  backspace(): void {
    const before = charBefore(this.#text, this.#cursor);
    this.#edit(this.#text.slice(0, this.#cursor - before.length) + this.#text.slice(this.#cursor), this.#cursor - before.length);
  }

  /** Delete, Ctrl-D: deletes the character under the cursor. */
  deleteForward(): void {
    const at = charAt(this.#text, this.#cursor);
    this.#edit(this.#text.slice(0, this.#cursor) + this.#text.slice(this.#cursor + at.length), this.#cursor);
  }

  /** Ctrl-U: deletes from the start of the line to the cursor. */
  killToStart(): void {
    this.#kill(0, this.#cursor);
  }

  /** Ctrl-K: deletes from the cursor to the end of the line. */
  killToEnd(): void {
    this.#kill(this.#cursor, this.#text.length);
  }

  /** Ctrl-W: deletes the word before the cursor (and the spaces after it). */
  killWord(): void {
    this.#kill(wordStart(this.#text, this.#cursor), this.#cursor);
  }

  /** Ctrl-Y: types what the last kill deleted. */
  yank(): void {
    this.insert(this.#killed);
  }

  /** Up: the previous line of the history (the line being written is kept for Down). */
  historyUp(): void {
    if (this.#browsing === 0) return;
    if (this.#browsing === this.#history.length) this.#draft = this.#text;
    this.#browsing--;
    this.#show(this.#history[this.#browsing]!);
  }

  /** Down: the next line of the history, then the line that was being written. */
  historyDown(): void {
    if (this.#browsing >= this.#history.length) return;
    this.#browsing++;
    this.#show(this.#browsing === this.#history.length ? this.#draft : this.#history[this.#browsing]!);
  }

  /**
   * Tab: completes the word before the cursor: a command when the line starts with it and it begins with
   * `/`, else a participant's name (case-insensitive prefix). Tab again shows the next match.
   * Returns the matches, so the UI can list them when there are several.
   */
  complete(source: Completions): string[] {
    let state = this.#completing;
    if (!state) {
      const typed = /\S*$/.exec(this.#text.slice(0, this.#cursor))![0];
      const start = this.#cursor - typed.length;
      const isCommand = start === 0 && typed.startsWith('/');
      const pool = isCommand ? source.commands() : source.names();
      const matches = pool.filter((candidate) => candidate.toLowerCase().startsWith(typed.toLowerCase()));
      if (matches.length === 0) return [];
      const suffix = start === 0 && !isCommand ? ': ' : ' ';
      state = { start, end: this.#cursor, matches: [...new Set(matches)].sort((a, b) => a.localeCompare(b)), index: -1, suffix };
    }
    state.index = (state.index + 1) % state.matches.length;
    const word = state.matches[state.index]! + state.suffix;
    this.#text = this.#text.slice(0, state.start) + word + this.#text.slice(state.end);
    this.#cursor = state.end = state.start + word.length;
    this.#completing = state;
    return state.matches;
  }

  /** Enter: the line, now empty again; a non-blank line joins the history (not twice in a row). */
  submit(): string {
    const line = this.#text;
    if (line.trim() !== '' && this.#history[this.#history.length - 1] !== line) {
      this.#history.push(line);
      if (this.#history.length > HISTORY_LIMIT) this.#history.shift();
    }
    this.#browsing = this.#history.length;
    this.#draft = '';
    this.#show('');
    return line;
  }

  /** Escape: empties the line (kept for Ctrl-Y). */
  clear(): void {
    this.#kill(0, this.#text.length);
  }

  #kill(from: number, to: number): void {
    if (to <= from) return;
    this.#killed = this.#text.slice(from, to);
    this.#edit(this.#text.slice(0, from) + this.#text.slice(to), from);
  }

  #show(text: string): void {
    this.#completing = undefined;
    this.#text = text;
    this.#cursor = text.length;
  }

  #edit(text: string, cursor: number): void {
    this.#completing = undefined;
    this.#text = text;
    this.#cursor = Math.max(0, Math.min(cursor, text.length));
    if (this.#browsing < this.#history.length && this.#history[this.#browsing] !== text) this.#browsing = this.#history.length;
  }

  #move(cursor: number): void {
    this.#completing = undefined;
    this.#cursor = Math.max(0, Math.min(cursor, this.#text.length));
  }
}

/** The character (one or two UTF-16 units) that ends at `index`. */
function charBefore(text: string, index: number): string {
  if (index <= 0) return '';
  const low = text.charCodeAt(index - 1);
  return index >= 2 && low >= 0xdc00 && low <= 0xdfff ? text.slice(index - 2, index) : text.slice(index - 1, index);
}

/** The character (one or two UTF-16 units) that starts at `index`. */
function charAt(text: string, index: number): string {
  if (index >= text.length) return '';
  return String.fromCodePoint(text.codePointAt(index)!);
}

/** Where the word before `index` starts (skipping the spaces just before `index`). */
function wordStart(text: string, index: number): number {
  const match = /\S*\s*$/.exec(text.slice(0, index));
  return index - (match ? match[0].length : 0);
}
