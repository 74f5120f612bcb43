/**
 * The terminal client's input line: plain text goes to the room; a line starting with `/` is a command,
 * built in or one that a plugin's client entry adds (core/client/extensions.ts).
 */

/** What a line of input asks for. */
export type Command =
  | { kind: 'say'; text: string }
  | { kind: 'msg'; to: string; text: string }
  | { kind: 'upload'; path: string; to?: string }
  | { kind: 'download'; index: number; path?: string }
  | { kind: 'meetings' }
  | { kind: 'help' }
  | { kind: 'quit' }
  | { kind: 'plugin'; name: string; args: string[] }
  | { kind: 'error'; message: string };

/** Help for the built-in commands, one per line. */
const COMMAND_HELP = [
  'text                  send to the whole room (// at the start sends a line that begins with /)',
  '/msg NAME text        private message to NAME',
  '/upload PATH [@NAME]  share a file with the room (or with NAME only); ~ is your home directory',
  '/download N [PATH]    download file N of the files panel (to PATH, default the current directory)',
  '/meetings             refresh the upcoming meetings',
  '/help                 this help',
  '/quit                 leave',
];

/** Help for the keys. */
const KEY_HELP = [
  'keys: ←→ Home End, Ctrl-A/E/U/W/K/Y edit, ↑↓ history, Tab completes names and /commands,',
  '      PgUp/PgDn scroll, F3 next panel, Esc dismisses the error line, Ctrl-C leaves (asks first)',
];

/** The built-in commands Tab completes. */
export const COMMAND_NAMES = ['/msg', '/upload', '/download', '/meetings', '/help', '/quit'];

/**
 * The help /help shows: the built-in commands, then those of plugins (`[usage, what it does]`), then keys.
 *
 * @example
 *   helpLines([['/vote POLL N', 'vote']])  // [..., '/vote POLL N          vote', 'keys: …', …]
 */
export function helpLines(pluginCommands: ReadonlyArray<readonly [usage: string, help: string]>): string[] {
  return [...COMMAND_HELP, ...pluginCommands.map(([usage, help]) => `${usage.padEnd(21)} ${help}`), ...KEY_HELP];
}

/**
 * Parses one line of input; `pluginCommands` are the names (without `/`) of the commands plugins add,
 * whose words are split as a shell would split them: `"two words"` is one argument.
 *
 * @example
 *   parseCommand('/msg bob hi there')  // { kind: 'msg', to: 'bob', text: 'hi there' }
 *   parseCommand('/poll "Lunch?" pizza soup', ['poll'])  // { kind: 'plugin', name: 'poll', args: ['Lunch?', 'pizza', 'soup'] }
 */
export function parseCommand(line: string, pluginCommands: readonly string[] = []): Command | undefined {
  const text = line.trim();
  if (text === '') return undefined;
  if (!text.startsWith('/')) return { kind: 'say', text };
  if (text.startsWith('//')) return { kind: 'say', text: text.slice(1) };
  const [name = '', ...rest] = text.slice(1).split(/\s+/);
  const args = text.slice(1 + name.length).trim();
  switch (name.toLowerCase()) {
    case 'msg':
    case 'm': {
      const [to, ...words] = rest;
      if (!to || words.length === 0) return { kind: 'error', message: 'usage: /msg NAME text' };
      return { kind: 'msg', to, text: args.slice(to.length).trim() };
    }
    case 'upload':
    case 'up': {
      if (rest.length === 0) return { kind: 'error', message: 'usage: /upload PATH [@NAME]' };
      const last = rest[rest.length - 1]!;
      // A path may hold spaces; a recipient is marked with @ so the two never mix up.
      if (last.startsWith('@') && rest.length > 1) return { kind: 'upload', path: rest.slice(0, -1).join(' '), to: last.slice(1) };
      return { kind: 'upload', path: rest.join(' ') };
    }
    case 'download':
    case 'dl': {
      const index = Number(rest[0]);
      if (!Number.isInteger(index) || index < 1) return { kind: 'error', message: 'usage: /download N [PATH] (N from the files panel)' };
      return rest.length > 1 ? { kind: 'download', index, path: rest.slice(1).join(' ') } : { kind: 'download', index };
    }
    case 'meetings':
      return { kind: 'meetings' };
    case 'help':
    case '?':
      return { kind: 'help' };
    case 'quit':
    case 'exit':
    case 'q':
      return { kind: 'quit' };
    default:
      if (pluginCommands.includes(name.toLowerCase())) return { kind: 'plugin', name: name.toLowerCase(), args: splitWords(args) };
      return { kind: 'error', message: `unknown command /${name}; /help lists them (start with // to send a line beginning with /)` };
  }
}

/** Words separated by spaces; `"quoted words"` are one word (an unclosed quote runs to the end). */
export function splitWords(text: string): string[] {
  return [...text.matchAll(/"([^"]*)"?|(\S+)/g)].map((match) => match[1] ?? match[2]!);
}
