/**
 * The terminal client's session: the client SDK with the built-in plugins' halves and the client entries it
 * is given (a config's plugins': their panels and commands, extensions.ts), wired to the state and the UI.
 * It stays in the room through lost connections and server restarts (the SDK resumes or joins again), keeps
 * what was typed meanwhile (shown pending until acknowledged), and ends only when the user leaves or the
 * server refuses it for good.
 */
import { createBotClient, type BotClient } from '../../bots/clients.js';
import type { AnyClientEntry } from '../../core/client/entry.js';
import { isConfabError, type ConfabError } from '../../core/errors.js';
import { COMMAND_NAMES, helpLines, parseCommand, type Command } from './commands.js';
import { TerminalExtensions } from './extensions.js';
import { JoinState } from './state.js';
import { download, reason, upload } from './transfers.js';
import { JoinUi } from './ui.js';

/** What to join. */
export interface JoinOptions {
  url: string;
  room: string;
  name: string;
  token?: string;
  /** Client entries of plugins that are not built in (a config's): their panels and commands are shown when the server runs them. */
  entries?: readonly AnyClientEntry[];
}

/**
 * Joins and runs the UI until the user leaves (0) or the client is closed for good (1, after a key).
 * Rejects with the error when the first join fails (the UI is gone by then), so it is printed once.
 */
export async function runJoin(options: JoinOptions): Promise<number> {
  const state = new JoinState();
  const bot = createBotClient({ url: options.url, room: options.room, name: options.name, token: options.token, clientKind: 'terminal', entries: options.entries ?? [] });
  const { client } = bot;
  let finish!: (code: number) => void;
  const finished = new Promise<number>((done) => (finish = done));
  const leave = () => void client.close().then(() => finish(0));
  const ui: JoinUi = new JoinUi(state, {
    title: () => ({ room: client.self?.room ?? options.room, name: client.self?.name ?? options.name, server: options.url }),
    completions: {
      names: () => [...state.participants.values()].filter((p) => !p.self).map((p) => p.name),
      commands: () => [...COMMAND_NAMES, ...extensions.names.map((name) => `/${name}`)],
    },
    onLine: (line) => handle(parseCommand(line, extensions.names)),
    onQuit: leave,
  });
  const extensions: TerminalExtensions = new TerminalExtensions(client, state, ui);
  bot.entries.on('available', (available) => extensions.add(available));
  const changed = () => ui.schedule();
  const fail = (error: ConfabError) => {
    state.error(`${error.code}: ${error.message}`);
    changed();
  };
  wire(bot, state, ui, changed, fail);

  let joined = false;
  client.on('close', ({ reason: why, error }) => {
    if (!joined || why === 'bye') return;
    state.error(error ? `${error.code}: ${error.message}` : `the server ended the session (${why})`);
    ui.ended(() => finish(1));
    changed();
  });
  try {
    await client.connect();
  } catch (error) {
    ui.destroy();
    throw error;
  }
  joined = true;
  for (const signal of ['SIGTERM', 'SIGHUP'] as const) process.once(signal, leave);
  const meetingTimer = setInterval(() => void refreshMeetings(bot, state, changed), 60_000);
  const code = await finished;
  clearInterval(meetingTimer);
  ui.destroy();
  const last = state.errors[state.errors.length - 1];
  if (code !== 0 && last) process.stderr.write(`confab join: disconnected: ${last.text}\n`);
  return code;

  function handle(command: Command | undefined): void {
    if (!command) return;
    switch (command.kind) {
      case 'say':
        return say(command.text);
      case 'msg': {
        const peer = state.findByName(command.to);
        if (!peer || peer.self) return state.error(notHere(command.to));
        return say(command.text, peer);
      }
      case 'upload': {
        const to = command.to === undefined ? undefined : state.findByName(command.to);
        if (command.to !== undefined && (!to || to.self)) return state.error(notHere(command.to));
        if (!bot.has('files')) return state.error('this server has no files plugin');
        return void upload(bot, state, command.path, to, changed).finally(changed);
      }
      case 'download': {
        const file = state.files[command.index - 1];
        if (!file) return state.error(`there is no file ${command.index}; the files panel numbers them (F3 shows it)`);
        return void download(bot, state, file, command.path, changed).finally(changed);
      }
      case 'meetings':
        return void refreshMeetings(bot, state, changed);
      case 'help':
        return ui.showHelp(helpLines(extensions.help));
      case 'plugin':
        return extensions.run(command.name, command.args);
      case 'quit':
        return leave();
      case 'error':
        return state.error(command.message);
    }
  }

  /** Sends a chat line: shown at once as pending, then as the server stored it (or marked as not sent). */
  function say(text: string, to?: { id: string; name: string }): void {
    const line = state.addPending(text, to?.name);
    bot.chat.send(text, to ? { to: to.id } : {}).then(
      () => state.settle(line),
      (error: unknown) => {
        state.settle(line, reason(error));
        state.error(`not sent: ${reason(error)}`);
      },
    ).finally(changed);
  }
}

/** The client's and plugins' events, into the state. */
function wire(bot: BotClient, state: JoinState, ui: JoinUi, changed: () => void, fail: (error: ConfabError) => void): void {
  const { client } = bot;
  let firstWelcome = true;
  client.on('welcome', (welcome) => {
    state.clearParticipants();
    state.addParticipant(welcome.session, welcome.name, true);
    for (const peer of client.peers.values()) state.addParticipant(peer.id, peer.name);
    ui.setStatus('connected');
    if (firstWelcome) state.notice(`joined ${welcome.room} as ${welcome.name}; /help for commands and keys`);
    firstWelcome = false;
    void refreshMeetings(bot, state, changed);
    void refreshFiles(bot, state, changed);
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
  client.on('reconnecting', ({ attempt, rejoin, error }) => {
    if (attempt === 1) state.notice(lostNotice(rejoin, error));
    ui.setStatus(`${rejoin ? 'rejoining' : 'reconnecting'} (attempt ${attempt})…`);
  });
  client.on('resumed', () => {
    state.notice('reconnected; nothing was missed');
    ui.setStatus('connected');
  });
  client.on('rejoined', ({ welcome }) => {
    state.notice(`joined ${welcome.room} again as ${welcome.name} (a new session): messages of the time away may be missing; the chat history fills what the server kept`);
    changed();
  });
  // An error about one request (a chat line, a transfer) is reported by that request.
  client.on('serverError', (error) => error.ref === undefined && fail(error));
  client.on('error', (error) => client.state !== 'closed' && fail(error));
  bot.chat.on('history', (messages) => {
    state.addHistory(messages);
    changed();
  });
  bot.chat.on('message', (message) => {
    state.addMessage(message, ui.chatInView, client.self?.id);
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
  bot.scheduler.on('changed', () => void refreshMeetings(bot, state, changed));
  bot.scheduler.on('started', (meeting) => {
    state.notice(`meeting "${meeting.title}" starts now in room ${meeting.room}`);
    changed();
  });
}

async function refreshMeetings(bot: BotClient, state: JoinState, changed: () => void): Promise<void> {
  if (!bot.has('scheduler')) return;
  try {
    state.setMeetings(await bot.scheduler.list());
  } catch (error) {
    if (isConfabError(error) && error.code !== 'CONNECTION_CLOSED') state.error(`could not list the meetings: ${reason(error)}`);
  }
  changed();
}

async function refreshFiles(bot: BotClient, state: JoinState, changed: () => void): Promise<void> {
  if (!bot.has('files')) return;
  try {
    for (const file of await bot.files.list()) state.addFile(file);
  } catch (error) {
    if (isConfabError(error) && error.code !== 'CONNECTION_CLOSED') state.error(`could not list the files: ${reason(error)}`);
  }
  changed();
}

/** What the chat says when the connection is lost, or when the session is gone and the client joins again. */
function lostNotice(rejoin: boolean, error: ConfabError): string {
  if (!rejoin) return `connection lost (${error.message}); reconnecting…`;
  if (error.code === 'SERVER_CLOSING') return 'the server is shutting down; joining again when it is back…';
  if (error.code === 'RESUME_FAILED') return 'the server no longer knows this session (it restarted, or this client was away too long); joining again…';
  return `the session is over (${error.message}); joining again…`;
}

function notHere(name: string): string {
  return `no one named "${name}" is here; Tab completes names`;
}
