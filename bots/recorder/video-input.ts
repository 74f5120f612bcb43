/**
 * The recorder's video side: takes the cameras and the screen share from the client halves, decodes VP8
 * (one ffmpeg per stream, vp8-decoder.ts) or hands JPEG to the grid as it is, shows a placeholder for a codec
 * it cannot decode, and copies every frame into the track recording when there is one.
 */
import { MediaCodec, type MediaFrame } from '../../core/media.js';
import type { BotClient } from '../clients.js';
import type { GridCompositor } from './grid.js';
import type { TrackRecorder } from './tracks.js';
import { Vp8Decoder } from './vp8-decoder.js';

/** Names of codecs for placeholders. */
const CODEC_NAMES: Record<number, string> = { [MediaCodec.H264]: 'H.264' };

/** Frames received, by kind. */
export interface VideoReceived {
  cameraFrames: number;
  screenFrames: number;
}

/**
 * Feeds the grid (and the tracks) from a bot client's video and screen halves.
 *
 * @example
 *   const video = new RecorderVideo(bot, grid, { maxWidth: 640, maxHeight: 480, tracks });
 *   …
 *   await video.close();
 */
export class RecorderVideo {
  /** Frames received so far. */
  readonly received: VideoReceived = { cameraFrames: 0, screenFrames: 0 };
  readonly #bot: BotClient;
  readonly #grid: GridCompositor;
  readonly #box: { maxWidth: number; maxHeight: number };
  readonly #tracks: TrackRecorder | undefined;
  readonly #decoders = new Map<string, Vp8Decoder>();
  #screen: { presenter: { id: string; name: string }; decoder: Vp8Decoder | undefined } | undefined;

  constructor(bot: BotClient, grid: GridCompositor, options: { maxWidth: number; maxHeight: number; tracks?: TrackRecorder }) {
    this.#bot = bot;
    this.#grid = grid;
    this.#box = { maxWidth: options.maxWidth, maxHeight: options.maxHeight };
    this.#tracks = options.tracks;
    bot.video.on('camera', ({ peer, on }) => {
      grid.setCamera(peer, on);
      if (!on) this.#closeDecoder(peer);
    });
    bot.video.on('frame', (frame) => this.#camera(frame));
    bot.screen.on('started', ({ presenter }) => {
      this.#endScreen();
      this.#screen = { presenter: { id: presenter.id, name: presenter.name }, decoder: undefined };
      grid.setScreen(presenter.name);
    });
    bot.screen.on('stopped', () => {
      this.#endScreen();
      grid.setScreen(undefined);
    });
    bot.screen.on('frame', (frame) => this.#screenFrame(frame));
  }

  /** A participant left: its decoder and its track end. */
  peerLeft(id: string): void {
    this.#closeDecoder(id);
    this.#tracks?.close(id);
  }

  /** Stops every decoder. Idempotent. */
  async close(): Promise<void> {
    const decoders = [...this.#decoders.values(), ...(this.#screen?.decoder ? [this.#screen.decoder] : [])];
    this.#decoders.clear();
    this.#screen = undefined;
    await Promise.all(decoders.map((decoder) => decoder.close()));
  }

  #camera(frame: MediaFrame): void {
    this.received.cameraFrames++;
    const peer = this.#bot.client.peers.get(frame.sender);
    if (peer) this.#tracks?.participant(peer, frame);
    if (frame.codec === MediaCodec.JPEG) this.#grid.cameraFrame(frame.sender, frame.data);
    else if (frame.codec === MediaCodec.VP8) this.#decoder(frame.sender).decode(frame);
    else this.#grid.cameraUndecodable(frame.sender, CODEC_NAMES[frame.codec] ?? `codec ${frame.codec}`);
  }

  #screenFrame(frame: MediaFrame): void {
    const screen = this.#screen;
    if (!screen) return;
    this.received.screenFrames++;
    this.#tracks?.screen(screen.presenter, frame);
    if (frame.codec === MediaCodec.JPEG) return this.#grid.screenFrame(frame.data);
    if (frame.codec !== MediaCodec.VP8) return;
    screen.decoder ??= new Vp8Decoder({
      ...this.#box,
      onPicture: (picture) => this.#screen === screen && this.#grid.screenPicture(picture),
      onFailed: () => this.#screen === screen && this.#bot.screen.decodeFailed(),
    });
    screen.decoder.decode(frame);
  }

  #decoder(sender: string): Vp8Decoder {
    let decoder = this.#decoders.get(sender);
    if (!decoder) {
      decoder = new Vp8Decoder({
        ...this.#box,
        onPicture: (picture) => this.#grid.cameraPicture(sender, picture),
        onFailed: () => this.#bot.video.decodeFailed(sender),
      });
      this.#decoders.set(sender, decoder);
    }
    return decoder;
  }

  #closeDecoder(id: string): void {
    const decoder = this.#decoders.get(id);
    this.#decoders.delete(id);
    void decoder?.close();
  }

  #endScreen(): void {
    const screen = this.#screen;
    this.#screen = undefined;
    void screen?.decoder?.close();
    if (screen) this.#tracks?.close(`screen:${screen.presenter.id}`);
  }
}
