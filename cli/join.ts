/**
 * `confab join`: the terminal client. Joins a room and shows participants (mic, camera, speaking), chat
 * (room-wide and private), files with transfer progress, and upcoming meetings, in a keyboard-driven
 * blessed UI. Without `--server`, it lists the servers heard through LAN discovery to pick one.
 */
import { userInfo } from 'node:os';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createBotClient, botServerUrl, type BotClient } from '../bots/clients.js';
import { isConfabError } from '../core/errors.js';
import { parseCommand } from './join/commands.js';
import { pickServer } from './join/picker.js';
import { JoinState } from './join/state.js';
import { JoinUi } from './join/ui.js';

export const usage = `Usage: confab join [options]

Joins a room in a terminal UI: participants, chat, files and upcoming meetings.

Options:
  --server <host:port>  server to join; without it, pick one of the servers heard on the LAN
  --room <name>         room to join (default "default")
  --name <name>         your display name (default: your user name)
  --token <token>       access token, for a server with the auth plugin
  -h, --help            show this help

In the UI: type and Enter to send to the room; /msg NAME text for a private message; /upload PATH;
/download N; /mute; /help; F2 mute; PgUp/PgDn scroll the chat; F10 or Ctrl-C leave.
`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      server: { type: 'string' },
      room: { type: 'string', default: 'default' },
      name: { type: 'string', default: safeUserName() },
      token: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  let url: string;
  if (values.server !== undefined) url = botServerUrl(values.server);
  else {
    const picked = await pickServer();
    if (!picked) {
      process.stderr.write('confab join: no server picked; give one with --server HOST:PORT\n');
      return 1;
    }
    url = picked.url;
  }
  return joinRoom({ url, room: values.room, name: values.name, token: values.token });
}

/** Runs the UI until the user leaves or the connection is lost for good; resolves with the exit code. */
async function joinRoom(options: { url: string; room: string; name: string; token?: string }): Promise<number> {
  const state = new JoinState();
  const bot = createBotClient({ url: options.url, room: options.room, name: options.name, token: options.token, clientKind: 'terminal' });
  const { client } = bot;
  let finish!: (code: number) => void;
  const finished = new Promise<number>((done) => (finish = done));
  const ui = new JoinUi(state, {
    title: `room ${options.room} as ${options.name} @ ${options.url}`,
    onLine: (line) => void handleLine(line).catch((error: unknown) => state.notice(errorText(error))).finally(() => ui.schedule()),
    onToggleMute: () => toggleMute(),
    onQuit: () => void client.close().then(() => finish(0)),
  });
  const changed = () => ui.schedule();

  client.on('welcome', (welcome) => {
    state.addParticipant(welcome.session, welcome.name, true);
    for (const peer of client.peers.values()) state.addParticipant(peer.id, peer.name);
    ui.setStatus(`connected as ${welcome.name}`);
    state.notice(`joined ${welcome.room} as ${welcome.name}; /help for commands`);
    void refreshMeetings();
  });
  client.on('peerJoined', (peer) => {
    state.addParticipant(peer.id, peer.name);
    state.notice(`${peer.name} joined`);
    changed();
  });
  client.on('peerLeft', (peer) => {
    state.removeParticipant(peer.id);
    state.notice(`${peer.name} left (${peer.reason})`);
    changed();
  });
  client.on('reconnecting', ({ attempt }) => ui.setStatus(`reconnecting (attempt ${attempt})…`));
  client.on('resumed', () => ui.setStatus('connected'));
  client.on('serverError', (error) => {
    state.notice(`${error.code}: ${error.message}`);
    changed();
  });
  client.on('close', ({ reason, error }) => {
    if (reason === 'bye') return;
    ui.destroy();
    process.stderr.write(`confab join: disconnected (${reason})${error ? `: ${error.code}: ${error.message}` : ''}\n`);
    finish(1);
  });
  bot.chat.on('history', (messages) => {
    state.setHistory(messages);
    changed();
  });
  bot.chat.on('message', (message) => {
    state.addMessage(message);
    changed();
  });
  bot.video.on('camera', ({ peer, on }) => {
    state.setCamera(peer, on);
    changed();
  });
  bot.audio.on('muted', ({ peer, muted }) => {
    state.setMuted(peer, muted);
    changed();
  });
  bot.audio.on('levels', (levels) => {
    state.setLevels(levels);
    changed();
  });
  bot.files.on('file', (file) => {
    state.addFile(file);
    changed();
  });
  bot.files.on('removed', ({ id }) => {
    state.removeFile(id);
    changed();
  });
  bot.scheduler.on('changed', () => void refreshMeetings());
  bot.scheduler.on('started', (meeting) => {
    state.notice(`meeting "${meeting.title}" starts now in room ${meeting.room}`);
    changed();
  });

  try {
    await client.connect();
  } catch (error) {
    ui.destroy();
    throw error;
  }
  if (bot.has('files')) {
    for (const file of await bot.files.list().catch(() => [])) state.addFile(file);
    changed();
  }
  const meetingTimer = setInterval(() => void refreshMeetings(), 60_000);
  const code = await finished;
  clearInterval(meetingTimer);
  ui.destroy();
  return code;

  async function refreshMeetings(): Promise<void> {
    if (!bot.has('scheduler')) return;
    state.setMeetings(await bot.scheduler.list().catch(() => state.meetings));
    changed();
  }

  function toggleMute(): void {
    if (!bot.has('audio')) return state.notice('this server mixes no audio');
    bot.audio.setMuted(!bot.audio.muted);
    state.setMuted(client.self!.id, bot.audio.muted);
    state.notice(bot.audio.muted ? 'you are muted' : 'you are unmuted');
    changed();
  }

  async function handleLine(line: string): Promise<void> {
    const command = parseCommand(line);
    if (!command) return;
    switch (command.kind) {
      case 'say':
        await bot.chat.send(command.text);
        return;
      case 'msg': {
        const peer = state.findByName(command.to);
        if (!peer || peer.self) return state.notice(`no one named "${command.to}" here`);
        await bot.chat.send(command.text, { to: peer.id });
        return;
      }
      case 'upload':
        return upload(bot, state, command.path, command.to, changed);
      case 'download': {
        const file = state.files[command.index - 1];
        if (!file) return state.notice(`there is no file ${command.index}; the files panel numbers them`);
        return download(bot, state, file.id, file.name, command.path, changed);
      }
      case 'mute':
        return toggleMute();
      case 'meetings':
        return refreshMeetings();
      case 'help':
        return ui.showHelp();
      case 'quit':
        await client.close();
        return finish(0);
      case 'error':
        return state.notice(command.message);
    }
  }
}

async function upload(bot: BotClient, state: JoinState, path: string, toName: string | undefined, changed: () => void): Promise<void> {
  if (!bot.has('files')) return state.notice('this server has no files plugin');
  const to = toName === undefined ? undefined : state.findByName(toName);
  if (toName !== undefined && !to) return state.notice(`no one named "${toName}" here`);
  const view = state.addTransfer({ kind: 'upload', name: basename(path), done: 0, total: 0, status: 'running' });
  const transfer = bot.files.upload(resolve(path), to ? { to: to.id } : {});
  transfer.on('progress', ({ sent, total }) => {
    view.done = sent;
    view.total = total;
    state.touch();
    changed();
  });
  try {
    const file = await transfer.done;
    view.status = 'done';
    view.done = view.total = file.size;
    state.addFile(file);
  } catch (error) {
    view.status = errorText(error);
  }
  state.touch();
}

async function download(bot: BotClient, state: JoinState, id: string, name: string, path: string | undefined, changed: () => void): Promise<void> {
  const view = state.addTransfer({ kind: 'download', name, done: 0, total: 0, status: 'running' });
  const transfer = bot.files.download(id, resolve(path ?? '.'));
  transfer.on('progress', ({ received, total }) => {
    view.done = received;
    view.total = total;
    state.touch();
    changed();
  });
  try {
    await transfer.done;
    view.status = 'done';
    view.done = view.total;
    state.notice(`saved ${name} to ${resolve(path ?? '.')}`);
  } catch (error) {
    view.status = errorText(error);
  }
  state.touch();
}

function errorText(error: unknown): string {
  return isConfabError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
}

function safeUserName(): string {
  try {
    return userInfo().username || 'guest';
  } catch {
    return 'guest';
  }
}
