/**
 * The terminal client's input line: plain text goes to the room; a line starting with `/` is a command.
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
  | { kind: 'error'; message: string };

/** Help for the commands and keys, one per line. */
export const COMMAND_HELP = [
  'text                  send to the whole room (// at the start sends a line that begins with /)',
  '/msg NAME text        private message to NAME',
  '/upload PATH [@NAME]  share a file with the room (or with NAME only); ~ is your home directory',
  '/download N [PATH]    download file N of the files panel (to PATH, default the current directory)',
  '/meetings             refresh the upcoming meetings',
  '/help                 this help',
  '/quit                 leave',
  'keys: ←→ Home End, Ctrl-A/E/U/W/K/Y edit, ↑↓ history, Tab completes names and /commands,',
  '      PgUp/PgDn scroll, F3 next panel, Esc dismisses the error line, Ctrl-C leaves (asks first)',
];

/** The commands Tab completes. */
export const COMMAND_NAMES = ['/msg', '/upload', '/download', '/meetings', '/help', '/quit'];

/**
 * Parses one line of input.
 *
 * @example
 *   parseCommand('/msg bob hi there')  // { kind: 'msg', to: 'bob', text: 'hi there' }
 */
export function parseCommand(line: string): Command | undefined {
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
      return { kind: 'error', message: `unknown command /${name}; /help lists them (start with // to send a line beginning with /)` };
  }
}
