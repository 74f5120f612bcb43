/**
 * One meeting: the browser client SDK over WebSocket with the built-in plugins' client halves (chat, video,
 * screen, audio mix, files, scheduler: plugins/clients.ts) and the client entries of the server's other
 * plugins (bundled by the web plugin), and what the page shows of it: the grid, the People list, the panels,
 * the plugins' tabs and tile overlays (extensions.ts), the connection status. Media controls (camera,
 * microphone, screen, devices) live in controls.ts.
 *
 * Media: video and the screen arrive as VP8 or JPEG and are decoded per sender (media/video-view.ts); the
 * mix is asked for as Opus where WebCodecs decodes it (media/opus-player.ts), else as PCM. Which video to
 * receive follows the grid's view (video-subscription.ts).
 */
import pluginEntries from 'confab:client-entries';
import { ConfabClient, type Peer } from '../core/client/browser.js';
import { ClientEntries } from '../core/client/entries.js';
import { MediaCodec } from '../core/media.js';
import { audioClient, type AudioApi } from '../plugins/audio-mix/client.js';
import { BUILTIN_CLIENTS } from '../plugins/clients.js';
import type { ScreenApi } from '../plugins/screen/client.js';
import type { VideoApi } from '../plugins/video-relay/client.js';
import { VIDEO_CONTROL } from '../plugins/video-relay/protocol.js';
import type { WebConfig } from './api.js';
import { Controls } from './controls.js';
import { byId } from './dom.js';
import { WebExtensions } from './extensions.js';
import { Grid } from './grid.js';
import type { AudioEngine } from './media/audio.js';
import type { Picture } from './media/canvas-grabber.js';
import type { CodecSupport } from './media/codec-support.js';
import { OpusPlayer } from './media/opus-player.js';
import { VideoView } from './media/video-view.js';
import { ChatPanel } from './panels/chat.js';
import { FilesPanel } from './panels/files.js';
import { PeoplePanel } from './panels/people.js';
import { SchedulePanel } from './panels/schedule.js';
import { Tabs } from './panels/tabs.js';
import { setStatus } from './status.js';
import { planSubscription } from './video-subscription.js';

/** A speaker louder than this (dBFS) counts as speaking. */
const SPEAKING_DBFS = -50;

/** What the page needs to start a meeting. */
export interface MeetingOptions {
  name: string;
  room: string;
  config: WebConfig;
  /** What this browser encodes and decodes with WebCodecs. */
  support: CodecSupport;
  audio: AudioEngine;
  /** The meeting ended: `error` says why when it was not the user leaving. */
  onEnd(error?: string): void;
  /** The user wants another room (from the Schedule tab). */
  onSwitchRoom(room: string): void;
}

/** A joined meeting. Create with `Meeting.join()`. */
export class Meeting {
  readonly client: ConfabClient;
  readonly video: VideoApi;
  readonly screen: ScreenApi;
  readonly audio: AudioApi;
  readonly grid: Grid;
  /** What this browser encodes and decodes with WebCodecs. */
  readonly support: CodecSupport;
  readonly #options: MeetingOptions;
  readonly #people = new PeoplePanel((id) => this.#messagePeer(id));
  readonly #chat: ChatPanel;
  readonly #files: FilesPanel;
  readonly #schedule: SchedulePanel;
  readonly #tabs: Tabs;
  readonly #extensions: WebExtensions;
  readonly #controls: Controls;
  readonly #screenView: VideoView;
  readonly #mixPlayer: OpusPlayer;
  /** The last `subscribe` sent, as JSON (nothing is re-sent while it stays the same). */
  #subscription: string | undefined;
  /** dBFS by peer id, from the server's levels (others) and the capture worklet (self). */
  readonly #levels = new Map<string, number>();
  /** Removes the page listeners of this meeting when it ends (the page's elements outlive it). */
  readonly #listeners = new AbortController();
  #ended = false;

  private constructor(options: MeetingOptions) {
    this.#options = options;
    this.support = options.support;
    this.grid = new Grid(byId('grid'), {
      support: options.support,
      onDecodeError: (id) => this.video.decodeFailed(id),
      onVideoNeedsChanged: () => this.#subscribe(),
      onTileAdded: (id, layer) => this.#extensions.tileAdded(id, layer),
      onTileRemoved: (id) => this.#extensions.tileRemoved(id),
    });
    this.#screenView = new VideoView('Shared screen', options.support, () => this.screen.decodeFailed());
    this.#mixPlayer = new OpusPlayer((pcm) => options.audio.play(pcm));
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
    // When the server restarts (or dropped the session), the client joins again as a new session and the
    // page starts the meeting over in the same room (#rejoined) rather than going back to the join screen.
    this.client = new ConfabClient({ url, name: options.name, room: options.room });
    const entries = new ClientEntries(this.client);
    const chat = entries.use(BUILTIN_CLIENTS.chat);
    this.video = entries.use(BUILTIN_CLIENTS['video-relay']);
    this.screen = entries.use(BUILTIN_CLIENTS.screen);
    // Opus is encoded and decoded here with WebCodecs (the client half loads no codec of its own).
    const audio = audioClient({ codec: 'opus', receive: options.support.opusDecoder ? 'opus' : 'pcm', listen: true, opus: null });
    this.audio = entries.use(BUILTIN_CLIENTS['audio-mix'], audio);
    const files = entries.use(BUILTIN_CLIENTS.files);
    const scheduler = entries.use(BUILTIN_CLIENTS.scheduler);
    this.audio.setMuted(true); // the microphone starts off; others see it muted

    const signal = this.#listeners.signal;
    this.#tabs = new Tabs(byId('panel').querySelector('[role="tablist"]')!, (panel) => {
      if (panel === 'chat-panel') this.#chat.markRead();
    }, signal);
    this.#extensions = new WebExtensions(this.client, this.#tabs);
    entries.on('available', (available) => this.#extensions.add(available));
    for (const entry of pluginEntries) entries.offer(entry);
    this.#chat = new ChatPanel(chat, {
      selfId: () => this.client.self?.id,
      isVisible: () => this.#tabs.selected === 'chat-panel' && !byId('panel').hidden,
      onUnread: (count) => showBadges(count),
      signal,
    });
    this.#files = new FilesPanel(files, signal);
    this.#schedule = new SchedulePanel(scheduler, options.room, options.onSwitchRoom, signal);
    this.#controls = new Controls(this, options.config, options.audio, () => this.refreshPeople(), signal);
    this.#wireClient();
    this.#wireMedia();
  }

  /** Connects and joins; rejects with the server's or the network's error. */
  static async join(options: MeetingOptions): Promise<Meeting> {
    const meeting = new Meeting(options);
    setStatus('connecting', `Joining ${options.room}…`);
    try {
      await meeting.client.connect();
    } catch (error) {
      meeting.#teardown();
      throw error;
    }
    meeting.#joined();
    return meeting;
  }

  /** Leaves the meeting (BYE), stops every device. */
  async leave(): Promise<void> {
    await this.client.close();
  }

  /** Re-renders the People list and the tiles' mute marks from what is known now. */
  refreshPeople(): void {
    const self = this.client.self;
    if (!self) return;
    const speaking = new Set([...this.#levels].filter(([, level]) => level > SPEAKING_DBFS).map(([id]) => id));
    const loudest = [...this.#levels].filter(([id]) => speaking.has(id)).sort((a, b) => b[1] - a[1])[0]?.[0];
    this.grid.setSpeaking(speaking, loudest);
    const presenter = this.screen.presenter?.id;
    const people = [
      { id: self.id, name: self.name, self: true, micOn: this.#controls.micOn, cameraOn: this.#controls.cameraOn, speaking: speaking.has(self.id), presenting: presenter === self.id },
      ...[...this.client.peers.values()].map((peer) => ({
        id: peer.id,
        name: peer.name,
        self: false,
        micOn: !this.audio.mutedPeers.has(peer.id),
        cameraOn: this.video.cameras.get(peer.id) ?? false,
        speaking: speaking.has(peer.id),
        presenting: presenter === peer.id,
      })),
    ];
    for (const person of people) this.grid.setMuted(person.id, !person.micOn);
    this.#people.render(people);
  }

  /** Notes this client's own microphone level (from the capture worklet). */
  setOwnLevel(dbfs: number): void {
    const self = this.client.self;
    if (self) this.#levels.set(self.id, dbfs);
  }

  #joined(): void {
    const self = this.client.self!;
    setStatus('open', `Connected as ${self.name}`);
    byId('room-title').textContent = `Room: ${self.room}`;
    document.title = `${self.room} · Confab`;
    byId('meeting').hidden = false;
    this.grid.add(self.id, `${self.name} (you)`);
    for (const peer of this.client.peers.values()) this.grid.add(peer.id, peer.name);
    this.#peersChanged();
    this.#controls.enable(new Set(this.client.channels.keys()));
    void this.#files.refresh();
    void this.#schedule.refresh();
    byId<HTMLInputElement>('text').focus();
  }

  #wireClient(): void {
    const client = this.client;
    client.on('welcome', () => {
      this.#subscription = undefined; // a new session: the server knows no subscription yet
      this.#subscribe();
    });
    client.on('peerJoined', (peer) => {
      this.grid.add(peer.id, peer.name);
      this.#peersChanged();
    });
    client.on('peerLeft', (peer) => {
      this.grid.remove(peer.id);
      this.#levels.delete(peer.id);
      this.#peersChanged();
    });
    client.on('reconnecting', ({ attempt, rejoin }) => {
      const count = attempt > 1 ? ` (attempt ${attempt})` : '';
      setStatus('reconnecting', rejoin ? `The server lost this session — joining again${count}…` : `Connection lost — reconnecting${count}…`);
    });
    client.on('rejoined', () => this.#rejoined());
    client.on('resumed', () => {
      setStatus('open', `Reconnected as ${client.self?.name ?? ''}`);
      this.#subscribe(); // the view may have changed while the connection was down
    });
    client.on('serverError', (error) => {
      if (!error.channel || error.channel === 'chat') byId('chat-error').textContent = error.message;
    });
    client.on('close', ({ reason, error }) => {
      this.#teardown();
      const why = error ? `Disconnected: ${error.message}` : reason === 'bye' ? '' : `The server ended the meeting (${reason}).`;
      setStatus(error ? 'closed' : 'idle', error ? 'Disconnected' : 'Not connected');
      this.#options.onEnd(why || undefined);
    });
  }

  /**
   * Joined again as a new session (the server restarted, or dropped the old one): everyone has a new id, so
   * the tiles start over, devices are off (the new session publishes nothing yet), and the panels reload; the
   * chat history the server kept fills the conversation.
   */
  #rejoined(): void {
    const self = this.client.self!;
    this.#controls.stopAll();
    this.#controls.enable(new Set(this.client.channels.keys()));
    this.audio.setMuted(true);
    this.#levels.clear();
    this.grid.clear();
    this.grid.add(self.id, `${self.name} (you)`);
    for (const peer of this.client.peers.values()) this.grid.add(peer.id, peer.name);
    this.#peersChanged();
    this.#subscribe();
    void this.#files.refresh();
    void this.#schedule.refresh();
    setStatus('open', `Rejoined as ${self.name} — the server lost the session; messages of the time away may be missing`);
  }

  #wireMedia(): void {
    this.video.on('frame', (frame) => this.grid.showFrame(frame.sender, frame));
    this.video.on('camera', ({ peer, on }) => {
      this.grid.setCamera(peer, on);
      this.refreshPeople();
    });
    // PCM mixes come decoded; Opus ones are decoded here.
    this.audio.on('mix', ({ pcm }) => this.#options.audio.play(pcm));
    this.audio.on('frame', (frame) => {
      if (frame.codec === MediaCodec.OPUS) this.#mixPlayer.decode(frame);
    });
    this.audio.on('levels', (levels) => {
      for (const [peer, level] of Object.entries(levels)) {
        if (peer !== this.client.self?.id) this.#levels.set(peer, level);
      }
      this.refreshPeople();
    });
    this.audio.on('muted', () => this.refreshPeople());
    const stage = byId('screen-stage');
    const canvasSlot = byId<HTMLCanvasElement>('screen-canvas');
    this.#screenView.canvas.id = 'screen-canvas';
    canvasSlot.replaceWith(this.#screenView.canvas, this.#screenView.placeholder);
    this.screen.on('started', ({ presenter }) => {
      stage.hidden = false;
      const own = presenter.id === this.client.self?.id;
      byId('screen-caption').textContent = own ? 'You are presenting' : `${presenter.name} is presenting`;
      this.refreshPeople();
    });
    this.screen.on('stopped', () => {
      stage.hidden = true;
      this.#screenView.close(); // the next share starts with a keyframe, in a new decoder
      this.#controls.screenStopped();
      this.refreshPeople();
    });
    this.screen.on('frame', (frame) => this.#screenView.show(frame));
  }

  /** Shows this client's own shared screen in the stage (the server does not echo it back). */
  showOwnScreenPicture(picture: Picture): void {
    this.#screenView.showPicture(picture);
  }

  /** Asks the server for the video the grid shows now, when that changed (and the server relays video). */
  #subscribe(): void {
    if (this.client.state !== 'open' || !this.client.channels.has(VIDEO_CONTROL.name)) return;
    const self = this.client.self?.id;
    const featured = this.grid.featured === self ? undefined : this.grid.featured;
    const subscription = planSubscription(this.grid.view, featured, this.grid.undecodable);
    const json = JSON.stringify(subscription);
    if (json === this.#subscription) return;
    this.#subscription = json;
    this.video.subscribe(subscription);
  }

  #peersChanged(): void {
    const peers: Peer[] = [...this.client.peers.values()];
    this.#chat.setPeers(peers);
    this.#files.setPeers(peers);
    this.refreshPeople();
  }

  #messagePeer(peerId: string): void {
    this.#tabs.select('chat-panel');
    this.#chat.messagePeer(peerId);
  }

  /** Stops devices and clears the meeting view. Idempotent. */
  #teardown(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#listeners.abort();
    this.#extensions.close();
    this.#controls.stopAll();
    this.#mixPlayer.close();
    this.#screenView.close();
    showBadges(0);
    this.grid.clear();
    byId('meeting').hidden = true;
    byId('screen-stage').hidden = true;
    byId('room-title').textContent = '';
    document.title = 'Confab';
  }
}

/** Shows the unread chat count on the Chat tab and on the panel button (phones hide the panel). */
function showBadges(count: number): void {
  for (const id of ['chat-badge', 'panel-badge']) {
    const badge = byId(id);
    badge.hidden = count === 0;
    badge.textContent = String(count);
    badge.setAttribute('aria-label', `${count} unread`);
  }
}
