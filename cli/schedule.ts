/**
 * `confab schedule list|add|update|rm`: manages a server's scheduled meetings as a client of it (the
 * scheduler plugin's client half over the client SDK), joining quietly (cli/one-shot.ts). The server's
 * errors about a field are told in terms of the flag that set it (`--duration`, not `durationMinutes`).
 */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { ConfabError, isConfabError } from '../core/errors.js';
import { schedulerClient, type SchedulerApi } from '../plugins/scheduler/client.js';
import type { Meeting, MeetingPatch } from '../plugins/scheduler/protocol.js';
import { serverOption, withOneShotClient } from './one-shot.js';
import { table } from './table.js';

export const usage = `Usage: confab schedule <list|add|update|rm> [options]

Lists and manages the meetings scheduled on a server (it needs the scheduler plugin).

  confab schedule list [--json]
  confab schedule add --title <text> --room <room> --start <time> --duration <minutes> [--description <text>]
  confab schedule update <id> [--title …] [--room …] [--start …] [--duration …] [--description …]
  confab schedule rm <id>

Options:
  --server <address>    the server: host:port or the http://host:port address confab serve prints
                        (default 127.0.0.1:5000)
  --name <name>         who you are: the organiser of what you add (default your user name, $USER)
  --token <token>       access token for a server with auth (default $CONFAB_TOKEN)
  --start <time>        2030-03-01T14:00 or "2030-03-01 14:00" in your local time, or with a time zone:
                        2030-03-01T14:00+01:00, 2030-03-01T13:00Z
  --duration <minutes>  1 to 1440
  --json                list: print JSON instead of a table
  -h, --help            show this help

Who may update or remove a meeting: its organiser (the --name it was added with) and anyone with the
moderate grant. Without the auth plugin every session has every grant, so anyone may; with it, tokens
grant moderate only when minted with --grant moderate (confab token --help).
`;

const SUBCOMMANDS = ['list', 'add', 'update', 'rm'] as const;
/** The server's codes about one field: the flag it concerns. */
const FIELD_OF_CODE: Record<string, string> = {
  SCHEDULER_TITLE_EMPTY: '--title',
  SCHEDULER_BAD_ROOM: '--room',
  SCHEDULER_BAD_START: '--start',
  SCHEDULER_START_IN_PAST: '--start',
  SCHEDULER_START_TOO_FAR: '--start',
  SCHEDULER_BAD_DURATION: '--duration',
};
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

  const server = values.server ?? '127.0.0.1:5000';
  serverOption(server);
  const options = {
    server,
    name: { value: values.name ?? (process.env.USER || userInfo().username), flag: '--name' },
    room: CLI_ROOM,
    token: values.token ?? (process.env.CONFAB_TOKEN || undefined),
  };
  await withOneShotClient(options, (client) => client.use(schedulerClient()), async (schedule, client) => {
    if (!client.channels.has('scheduler')) throw new ConfabError('UNKNOWN_CHANNEL', `the server at ${server} does not run the scheduler plugin`);
    await perform(subcommand as (typeof SUBCOMMANDS)[number], schedule, id, patch, values.json === true).catch((error: unknown) => {
      throw inFlagTerms(error);
    });
  });
  return 0;
}

/** The server's error about a meeting field, worded with the flag that set it. */
function inFlagTerms(error: unknown): unknown {
  if (!isConfabError(error) || !error.code.startsWith('SCHEDULER_')) return error;
  let message = error.message.replace(/\bdurationMinutes\b/g, '--duration');
  const flag = FIELD_OF_CODE[error.code];
  if (flag !== undefined && !message.startsWith(flag)) message = `${flag}: ${message}`;
  return new ConfabError(error.code, message, { cause: error });
}

async function perform(subcommand: (typeof SUBCOMMANDS)[number], schedule: SchedulerApi, id: string | undefined, patch: MeetingPatch, json: boolean): Promise<void> {
  switch (subcommand) {
    case 'list': {
      const meetings = await schedule.list();
      process.stdout.write(json ? `${JSON.stringify(meetings, null, 2)}\n` : meetingTable(meetings));
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
    const minutes = /^\d+$/.test(values.duration) ? Number(values.duration) : NaN;
    if (!(minutes >= 1 && minutes <= 1440)) throw new Error(`--duration must be a whole number of minutes from 1 to 1440, got "${values.duration}"`);
    patch.durationMinutes = minutes;
  }
  return patch;
}

/**
 * A date-time without a time zone (`2030-03-01T14:00`, `2030-03-01 14:00`, seconds optional) gets this
 * machine's offset for that date (`2030-03-01T14:00+01:00` in Paris); anything else is left for the server
 * to check.
 */
export function withLocalZone(text: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$/i.exec(text.trim());
  if (!match) return text;
  const [year, month, day, hour, minute, second = '00'] = match.slice(1);
  const offset = -new Date(+year!, +month! - 1, +day!, +hour!, +minute!, +second).getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  const pad = (n: number) => String(Math.floor(Math.abs(n))).padStart(2, '0');
  return `${year}-${month}-${day}T${hour}:${minute}:${second}${sign}${pad(offset / 60)}:${pad(offset % 60)}`;
}

/** The meetings as an aligned table, or a line saying there are none. */
function meetingTable(meetings: Meeting[]): string {
  if (meetings.length === 0) return 'No upcoming meetings.\n';
  const now = Date.now();
  const rows = meetings.map((m) => [m.id, `${m.start}${m.startMs <= now ? ' (now)' : ''}`, String(m.durationMinutes), m.room, m.title, m.organiser]);
  return table(['ID', 'START', 'MIN', 'ROOM', 'TITLE', 'ORGANISER'], rows);
}

function usageError(message: string): number {
  process.stderr.write(`confab schedule: ${message}\n`);
  return 2;
}
