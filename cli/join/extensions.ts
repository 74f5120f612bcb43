/**
 * The plugins' terminal extensions in the terminal client (core/client/extensions.ts): when a client entry
 * with a `terminal` part becomes available, its panel joins the panels (F3 reaches it) and its commands
 * join the slash commands (Tab completes them, /help lists them). A command that clashes with a built-in or
 * an earlier plugin's is left out, and said so; a plugin that throws is reported in the error line.
 */
import type { ConfabClient } from '../../core/client/client.js';
import type { AvailableEntry } from '../../core/client/entries.js';
import type { TerminalCommand } from '../../core/client/extensions.js';
import { COMMAND_NAMES } from './commands.js';
import type { JoinState } from './state.js';
import { seg } from './text.js';
import type { JoinUi } from './ui.js';

/** Built-in command names and their aliases, which no plugin command may take. */
const RESERVED = new Set([...COMMAND_NAMES.map((name) => name.slice(1)), 'm', 'up', 'dl', '?', 'exit', 'q']);
/** A command name as a plugin may spell it. */
const COMMAND_NAME = /^[a-z][a-z0-9-]*$/;

/** The terminal extensions of one terminal client. */
export class TerminalExtensions {
  readonly #client: ConfabClient;
  readonly #state: JoinState;
  readonly #ui: JoinUi;
  readonly #commands = new Map<string, TerminalCommand>();

  constructor(client: ConfabClient, state: JoinState, ui: JoinUi) {
    this.#client = client;
    this.#state = state;
    this.#ui = ui;
  }

  /** Adds the panel and the commands of an entry that became available. */
  add({ entry, api }: AvailableEntry<unknown>): void {
    if (!entry.terminal) return;
    const state = this.#state;
    try {
      const view = entry.terminal({
        api,
        client: this.#client,
        changed: () => {
          state.touch();
          this.#ui.schedule();
        },
        notice: (text) => state.notice(text),
        error: (text) => state.error(text),
      });
      if (view.panel) {
        const { title, lines } = view.panel;
        this.#ui.addPanel(entry.name, title, (width) => lines(width).map((line) => [seg(line)]));
      }
      for (const command of view.commands ?? []) this.#addCommand(entry.name, command);
    } catch (error) {
      state.error(`plugin "${entry.name}": its terminal extension failed: ${message(error)}`);
    }
    this.#ui.schedule();
  }

  /** The plugins' command names, without their `/`. */
  get names(): string[] {
    return [...this.#commands.keys()];
  }

  /** The plugins' commands as `[usage, help]`, for /help. */
  get help(): Array<[string, string]> {
    return [...this.#commands.values()].map((command) => [command.usage, command.help]);
  }

  /** Runs a plugin's command; what it throws or rejects with goes to the error line. */
  run(name: string, args: string[]): void {
    const command = this.#commands.get(name);
    if (!command) return;
    Promise.resolve()
      .then(() => command.run(args))
      .catch((error: unknown) => this.#state.error(`/${name}: ${message(error)}`))
      .finally(() => this.#ui.schedule());
  }

  #addCommand(plugin: string, command: TerminalCommand): void {
    const taken = RESERVED.has(command.name) || this.#commands.has(command.name);
    if (!COMMAND_NAME.test(command.name) || taken) {
      this.#state.error(`plugin "${plugin}": its command /${command.name} is ${taken ? 'taken' : 'not a command name'}; it is left out`);
      return;
    }
    this.#commands.set(command.name, command);
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
