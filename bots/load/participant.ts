/**
 * One synthetic participant of the load tester: a bot client that publishes the run's shared media (the
 * VP8 clip looped, or its own JPEG test card; the Opus tone clip, or a PCM tone) and reports what arrives.
 *
 * A VP8 publisher answers keyframe requests by going back to the clip's first frame (a keyframe), and does
 * the same after a frame it could not send, since that broke the chain of deltas for its receivers.
 * Arrivals are seen twice: raw, by a small client plugin on the video channel (what the server delivered,
 * every layer), and decodable, by the video client half (`frame`).
 */
import type { ClientPlugin } from '../../core/client/types.js';
import { VIDEO } from '../../plugins/video-relay/protocol.js';
import { decodeMediaFrame, MediaCodec, type MediaFrame } from '../../core/media.js';
import { createBotClient, type BotClient } from '../clients.js';
import { SineTone } from '../media/pcm.js';
import { TestCard } from '../media/test-card.js';
import type { BotVideoCodec } from '../media/video-publisher.js';
import type { ClipFrame } from './clip.js';

/** The media a run shares between its participants. */
export interface LoadMedia {
  video: { codec: BotVideoCodec; clip: ClipFrame[] | undefined; width: number; height: number } | undefined;
  /** The Opus tone clip (50 packets), or undefined for PCM. */
  opus: Uint8Array[] | undefined;
  audio: boolean;
}

/** What a participant tells the run as things happen. */
export interface ParticipantObserver {
  /** A video frame arrived as the server sent it (before any decodability check). */
  rawVideo(receiver: string, frame: MediaFrame): void;
  /** A decodable video frame arrived. */
  video(receiver: string, frame: MediaFrame): void;
  /** A mix frame arrived (`bytes` as it came, encoded). */
  mix(receiver: string, seq: number, captureMs: number, bytes: number): void;
  /** A chat message arrived. */
  chat(receiver: string, from: string, text: string): void;
  /** An error from the server or the client. */
  error(code: string): void;
}

/** A joined participant. */
export class LoadParticipant {
  /** Its number in the run (its name's suffix). */
  readonly index: number;
  /** Its client, with every plugin's half. */
  readonly bot: BotClient;
  /** Its session id. */
  readonly id: string;
  /** Chat messages sent. */
  chatSeq = 0;
  /** Keyframe requests answered. */
  keyframeRequests = 0;
  readonly #media: LoadMedia;
  #position = 0;
  #jpeg: Buffer | undefined;
  #tone: SineTone | undefined;
  #audioFrame = 0;

  private constructor(index: number, bot: BotClient, media: LoadMedia) {
    this.index = index;
    this.bot = bot;
    this.id = bot.client.self!.id;
    this.#media = media;
    if (media.video?.codec === 'jpeg') {
      this.#jpeg = new TestCard({ name: bot.client.self!.name, width: media.video.width, height: media.video.height, quality: 0.6 }).jpeg();
    }
    if (media.audio && (!media.opus || bot.audio.sendCodec === 'pcm')) this.#tone = new SineTone(300 + (index % 50) * 10, 0.1);
    bot.video.on('keyframeRequest', () => {
      this.keyframeRequests++;
      this.#position = 0;
    });
  }

  /**
   * Connects a participant; resolves once it joined.
   *
   * @throws the connection's ConfabError.
   */
  static async join(url: string, room: string, name: string, index: number, media: LoadMedia, observer: ParticipantObserver, listen: boolean): Promise<LoadParticipant> {
    const bot = createBotClient({ url, name, room, audio: { codec: media.opus ? 'opus' : 'pcm', receive: media.opus ? 'opus' : 'pcm', listen } });
    let id = '';
    bot.client.use(rawVideoProbe((frame) => observer.rawVideo(id, frame)));
    await bot.client.connect();
    id = bot.client.self!.id;
    bot.client.on('error', (error) => observer.error(error.code));
    bot.client.on('serverError', (error) => observer.error(error.code));
    bot.video.on('frame', (frame) => observer.video(id, frame));
    // The mix as it arrived (not decoded: delivery is what is measured, and decoding would cost every bot CPU).
    bot.audio.on('frame', (mix) => observer.mix(id, mix.seq, mix.captureMs, mix.data.length));
    bot.chat.on('message', (message) => message.from.id !== id && observer.chat(id, message.from.id, message.text));
    await bot.audio.ready;
    return new LoadParticipant(index, bot, media);
  }

  /** Publishes the next video frame; returns its layer, or undefined when it was not sent. */
  publishVideo(): number | undefined {
    const captureMs = Date.now();
    if (this.#jpeg) return this.bot.video.publish(this.#jpeg, { codec: MediaCodec.JPEG, captureMs, keyframe: true }) ? 0 : undefined;
    const clip = this.#media.video!.clip!;
    const frame = clip[this.#position]!;
    const sent = this.bot.video.publish(frame.data, { codec: MediaCodec.VP8, keyframe: frame.keyframe, layer: frame.layer, switchUp: frame.switchUp, captureMs });
    // A frame not sent breaks the chain for every receiver: start again at the keyframe.
    this.#position = sent ? (this.#position + 1) % clip.length : 0;
    return sent ? frame.layer : undefined;
  }

  /** Publishes the next 20 ms of audio; false when it was not sent. */
  publishAudio(): boolean {
    const captureMs = Date.now();
    if (this.#tone) return this.bot.audio.publish(this.#tone.next(), { captureMs });
    const packets = this.#media.opus!;
    return this.bot.audio.publishEncoded(packets[this.#audioFrame++ % packets.length]!, 'opus', { captureMs });
  }
}

/** A client plugin that sees every video frame the server delivers, before the video half filters them. */
function rawVideoProbe(onFrame: (frame: MediaFrame) => void): ClientPlugin<void> {
  return {
    name: 'load-video-probe',
    attach(ctx) {
      ctx.channel(VIDEO).onMessage((bytes) => {
        const decoded = decodeMediaFrame(bytes);
        if (decoded.ok) onFrame(decoded.frame);
      });
    },
  };
}
