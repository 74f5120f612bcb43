/**
 * `confab schedule list|add|update|rm`: manages a server's scheduled meetings as a client of it (the
 * scheduler plugin's client half over the client SDK).
 */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { ConfabClient, serverUrl } from '../core/client/node.js';
import { ConfabError } from '../core/errors.js';
import { schedulerClient, type SchedulerApi } from '../plugins/scheduler/client.js';
import type { Meeting, MeetingPatch } from '../plugins/scheduler/protocol.js';

export const usage = `Usage: confab schedule <list|add|update|rm> [options]

Lists and manages the meetings scheduled on a server (it needs the scheduler plugin).

  confab schedule list [--json]
  confab schedule add --title <text> --room <room> --start <time> --duration <minutes> [--description <text>]
  confab schedule update <id> [--title …] [--room …] [--start …] [--duration …] [--description …]
  confab schedule rm <id>

Options:
  --server <host:port>  the server (default 127.0.0.1:5000); a tcp:// or ws:// URL works too
  --name <name>         who you are: the organiser of what you add (default your user name, $USER)
  --token <token>       access token for a server with auth (default $CONFAB_TOKEN)
  --start <time>        ISO 8601, e.g. 2030-03-01T14:00+01:00; without a time zone it is your local time
  --duration <minutes>  1 to 1440
  --json                list: print JSON instead of a table
  -h, --help            show this help

Only the organiser (by name) or someone with the moderate grant may update or remove a meeting.
`;

const SUBCOMMANDS = ['list', 'add', 'update', 'rm'] as const;
/** The room the command's session joins: not one people meet in, so its name is not taken by their clients. */
const CLI_ROOM = 'confab-schedule';

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      server: { type: 'string' },
      name: { type: 'string' },
      token: { type: 'string' },
      title: { type: 'string' },
      room: { type: 'string' },
      start: { type: 'string' },
      duration: { type: 'string' },
      description: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const [subcommand, id, ...extra] = positionals;
  if (!SUBCOMMANDS.includes(subcommand as (typeof SUBCOMMANDS)[number])) {
    return usageError(subcommand === undefined ? 'say what to do: list, add, update or rm' : `unknown subcommand "${subcommand}"; use list, add, update or rm`);
  }
  const needsId = subcommand === 'update' || subcommand === 'rm';
  if (needsId && id === undefined) return usageError(`${subcommand} needs the meeting's id (see confab schedule list)`);
  if ((!needsId && id !== undefined) || extra.length > 0) return usageError(`unexpected argument "${needsId ? extra[0] : id}"`);

  let patch: MeetingPatch;
  try {
    patch = meetingFields(values);
  } catch (error) {
    return usageError((error as Error).message);
  }
  if (subcommand === 'add') {
    const missing = (['title', 'room', 'start', 'duration'] as const).filter((flag) => values[flag] === undefined);
    if (missing.length > 0) return usageError(`add needs ${missing.map((flag) => `--${flag}`).join(', ')}`);
  }
  if (subcommand === 'update' && Object.keys(patch).length === 0) return usageError('update needs at least one of --title, --room, --start, --duration, --description');

  const url = serverUrl(values.server ?? '127.0.0.1:5000');
  if (url === undefined) return usageError(`--server must be host:port (like lab-pc:5000) or a URL, got "${values.server}"`);
  const client = new ConfabClient({
    url,
    name: values.name ?? (process.env.USER || userInfo().username),
    room: CLI_ROOM,
    token: values.token ?? process.env.CONFAB_TOKEN,
    reconnect: false,
    handshakeTimeoutMs: 5000,
  });
  const schedule = client.use(schedulerClient());
  try {
    await client.connect();
    if (!client.channels.has('scheduler')) {
      throw new ConfabError('UNKNOWN_CHANNEL', `the server at ${url} does not run the scheduler plugin`);
    }
    await perform(subcommand as (typeof SUBCOMMANDS)[number], schedule, id, patch, values.json === true);
  } finally {
    await client.close();
  }
  return 0;
}

async function perform(subcommand: (typeof SUBCOMMANDS)[number], schedule: SchedulerApi, id: string | undefined, patch: MeetingPatch, json: boolean): Promise<void> {
  switch (subcommand) {
    case 'list': {
      const meetings = await schedule.list();
      process.stdout.write(json ? `${JSON.stringify(meetings, null, 2)}\n` : table(meetings));
      return;
    }
    case 'add': {
      const meeting = await schedule.create(patch as Required<MeetingPatch>);
      process.stdout.write(`Scheduled ${meeting.id}: "${meeting.title}" in room ${meeting.room} at ${meeting.start} for ${meeting.durationMinutes} min\n`);
      return;
    }
    case 'update': {
      const meeting = await schedule.update(id!, patch);
      process.stdout.write(`Updated ${meeting.id}: "${meeting.title}" in room ${meeting.room} at ${meeting.start} for ${meeting.durationMinutes} min\n`);
      return;
    }
    case 'rm':
      await schedule.remove(id!);
      process.stdout.write(`Removed ${id}\n`);
  }
}

/** The meeting fields given as flags; throws for a duration that is not a whole number. */
function meetingFields(values: Record<string, string | boolean | undefined>): MeetingPatch {
  const patch: MeetingPatch = {};
  if (typeof values.title === 'string') patch.title = values.title;
  if (typeof values.room === 'string') patch.room = values.room;
  if (typeof values.description === 'string') patch.description = values.description;
  if (typeof values.start === 'string') patch.start = withLocalZone(values.start);
  if (typeof values.duration === 'string') {
    if (!/^\d+$/.test(values.duration)) throw new Error(`--duration must be a whole number of minutes, got "${values.duration}"`);
    patch.durationMinutes = Number(values.duration);
  }
  return patch;
}

/**
 * A date-time without a time zone gets this machine's offset for that date (`2030-03-01T14:00` →
 * `2030-03-01T14:00+01:00` in Paris); anything else is left for the server to check.
 */
export function withLocalZone(text: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(text.trim());
  if (!match) return text;
  const [year, month, day, hour, minute, second = '0'] = match.slice(1);
  const offset = -new Date(+year!, +month! - 1, +day!, +hour!, +minute!, +second).getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  const pad = (n: number) => String(Math.floor(Math.abs(n))).padStart(2, '0');
  return `${text.trim()}${sign}${pad(offset / 60)}:${pad(offset % 60)}`;
}

/** The meetings as an aligned table, or a line saying there are none. */
function table(meetings: Meeting[]): string {
  if (meetings.length === 0) return 'No upcoming meetings.\n';
  const now = Date.now();
  const rows = [
    ['ID', 'START', 'MIN', 'ROOM', 'TITLE', 'ORGANISER'],
    ...meetings.map((m) => [m.id, `${m.start}${m.startMs <= now ? ' (now)' : ''}`, String(m.durationMinutes), m.room, m.title, m.organiser]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n') + '\n';
}

function usageError(message: string): number {
  process.stderr.write(`confab schedule: ${message}\n`);
  return 2;
}
