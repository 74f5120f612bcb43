/**
 * The `confab` command: dispatches to one module per subcommand, loaded only when it runs.
 *
 * A subcommand module exports `usage` (its help text) and `run(args)`, which resolves with the exit code.
 * Exit codes: 0 done, 1 failed (a ConfabError is printed as `confab: CODE: message`), 2 wrong usage.
 * No stack traces: an error without a code is printed by its message (set CONFAB_DEBUG=1 for the stack).
 */
import { parseArgs } from 'node:util';
import { isConfabError } from '../core/errors.js';
import { didYouMean } from '../core/options.js';
import { VERSION } from '../core/version.js';

/** What a subcommand module exports. */
export interface CommandModule {
  /** Help text, printed for `confab <command> --help` and `confab help <command>`. */
  usage: string;
  /** Runs the command with the arguments after its name; resolves with the exit code. */
  run(args: string[]): Promise<number>;
}

interface Command {
  summary: string;
  load(): Promise<CommandModule>;
}

/** Every subcommand, in the order `confab --help` lists them. */
const COMMANDS: Record<string, Command> = {
  serve: { summary: 'start a server with the plugins of plugins.config.ts', load: () => import('./serve.js') },
  file: { summary: 'share a file with a room (send), list its files, download one (get)', load: () => import('./file.js') },
  new: { summary: 'scaffold a plugin: confab new plugin NAME (server, client, protocol, README, a test)', load: () => import('./new.js') },
  trace: { summary: 'show a trace written by the inspector plugin as a table, live with --follow', load: () => import('./trace.js') },
  token: { summary: 'mint an access token for the auth plugin (room, name, grants, lifetime)', load: () => import('./token.js') },
  discover: { summary: 'list the servers announcing themselves on the LAN', load: () => import('./discover.js') },
  schedule: { summary: 'list, add, update or remove scheduled meetings on a server', load: () => import('./schedule.js') },
  join: { summary: 'join a room in a terminal UI: participants, chat, files, meetings', load: () => import('./join.js') },
  bot: { summary: 'run a scripted bot, or the recorder, injector or load tester: confab bot --help', load: () => import('./bot.js') },
};

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`);
  return [
    'Usage: confab <command> [options]',
    '',
    'Commands:',
    ...lines,
    `  ${'help'.padEnd(width)}  show this help, or a command's: confab help <command>`,
    '',
    'Options:',
    '  -h, --help     show help',
    '  -v, --version  print the version',
    '',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' } },
    allowPositionals: true,
    // Stop at the command: what follows it is the command's to parse.
    strict: false,
  });
  const name = argv[0] !== undefined && !argv[0].startsWith('-') ? argv[0] : undefined;
  if (name === undefined) {
    if (values.version) {
      process.stdout.write(`${VERSION}\n`);
      return 0;
    }
    if (values.help) {
      process.stdout.write(help());
      return 0;
    }
    if (argv.length > 0) return usageError(`unknown option ${argv[0]}`);
    process.stderr.write(help());
    return 2;
  }
  if (name === 'help') {
    const topic = positionals[1];
    if (topic === undefined) {
      process.stdout.write(help());
      return 0;
    }
    const command = COMMANDS[topic];
    if (!command) return unknownCommand(topic);
    process.stdout.write((await command.load()).usage);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) return unknownCommand(name);
  const module = await command.load();
  try {
    return await module.run(argv.slice(1));
  } catch (error) {
    if ((error as { code?: unknown }).code?.toString().startsWith('ERR_PARSE_ARGS_')) {
      return usageError(`${(error as Error).message}; run confab ${name} --help`, name);
    }
    if (isConfabError(error) && error.code === 'CLI_OPTION_INVALID') return usageError(error.message, name);
    throw error;
  }
}

function unknownCommand(name: string): number {
  const guess = didYouMean(name, Object.keys(COMMANDS));
  return usageError(`unknown command "${name}"${guess ? ` (did you mean ${guess}?)` : ''}; run confab --help for the list`);
}

function usageError(message: string, command?: string): number {
  process.stderr.write(`confab${command ? ` ${command}` : ''}: ${message}\n`);
  return 2;
}

/** Prints a failure as `confab: CODE: message`; the stack only with CONFAB_DEBUG=1. */
function reportError(error: unknown): void {
  if (isConfabError(error)) process.stderr.write(`confab: ${error.code}: ${error.message}\n`);
  else if (error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string') {
    process.stderr.write(`confab: ${(error as NodeJS.ErrnoException).code}: ${error.message}\n`);
  } else process.stderr.write(`confab: ${error instanceof Error ? error.message : String(error)}\n`);
  if (process.env.CONFAB_DEBUG === '1' && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
}

try {
  process.exit(await main(process.argv.slice(2)));
} catch (error) {
  reportError(error);
  process.exit(1);
}
