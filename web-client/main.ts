/**
 * The browser client's entry point: the join screen, then a meeting, then the join screen again. Bundled by
 * the `web` plugin with esbuild and served at `/`; talks to the server with the browser client SDK over
 * WebSocket (`wss://` on an https page) on the page's own host and port.
 */
import { fetchConfig, type WebConfig } from './api.js';
import { renderIcons } from './icons.js';
import { JoinScreen, type JoinRequest } from './join.js';
import { AudioEngine } from './media/audio.js';
import { detectCodecSupport, type CodecSupport } from './media/codec-support.js';
import { Meeting } from './meeting.js';
import { setStatus } from './status.js';

renderIcons();
const configLoaded: Promise<WebConfig> = fetchConfig();
const supportKnown: Promise<CodecSupport> = configLoaded.then((config) => detectCodecSupport(config.media));
let meeting: Meeting | undefined;
let audio: AudioEngine | undefined;

const join = new JoinScreen((request) => {
  // Inside the submit event: the AudioContext may start playing (browsers' autoplay rule).
  if (!audio) {
    const engine = (audio = new AudioEngine());
    void engine.ready.then(() => engine.onPlaybackStats((stats) => {
      // Exposed for people debugging audio and for the end-to-end test: what is being played right now.
      document.body.dataset.playbackRms = stats.rms.toFixed(5);
      document.body.dataset.playbackUnderruns = String(stats.underruns);
    }));
  }
  void enter(request, audio);
});

async function enter(request: JoinRequest, engine: AudioEngine): Promise<void> {
  join.busy(true);
  try {
    const [config, support] = await Promise.all([configLoaded, supportKnown, engine.ready]);
    // What this browser sends and decodes, for people debugging media and for the end-to-end tests.
    document.body.dataset.codecs = Object.entries(support).filter(([, ok]) => ok).map(([name]) => name).join(' ');
    meeting = await Meeting.join({
      ...request,
      config,
      support,
      audio: engine,
      onEnd: (error) => ended(error),
      onSwitchRoom: (room) => void switchRoom(room),
    });
    join.hide();
  } catch (error) {
    setStatus('closed', 'Not connected');
    join.show(`Could not join: ${(error as Error).message}`);
  }
}

function ended(error: string | undefined): void {
  meeting = undefined;
  join.show(error);
}

async function switchRoom(room: string): Promise<void> {
  const name = meeting?.client.self?.name.replace(/_\d+$/, '') ?? '';
  await meeting?.leave();
  if (audio) void enter({ name, room }, audio);
}

window.addEventListener('pagehide', () => void meeting?.leave());
join.show();
